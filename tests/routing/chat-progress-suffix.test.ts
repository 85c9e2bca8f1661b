/** clis-wrapper's "-chat-progress" model suffix: progress markers on, as cligate's own "-progress". */
import { describe, expect, it } from 'vitest';
import { Router } from '../../src/routing/router.js';
import { parseModelSuffixes } from '../../src/routing/suffixes.js';
import type { Provider } from '../../src/core/provider.js';

function provider(id: string, models: string[], supportsThinking = false): Provider {
  return {
    id,
    supportsThinking,
    models: () => models.map((m) => ({ id: m, provider: id })),
    handles: (m) => models.includes(m),
    stream: () => {
      throw new Error('not used');
    },
  };
}

describe('-chat-progress (clis-wrapper)', () => {
  it.each([
    ['claude-sonnet-4-5-chat-progress', 'claude-sonnet-4-5', true, false],
    ['claude-sonnet-4-5-thinking-chat-progress', 'claude-sonnet-4-5', true, true],
    ['claude-sonnet-4-5-chat-progress-thinking', 'claude-sonnet-4-5', true, true],
    // one progress suffix only: "-progress" after "-chat-progress" stays part of the name
    ['m-chat-progress-progress', 'm-chat-progress', true, false],
    // bare "-chat" is a real model name ending (deepseek-chat): never parsed
    ['deepseek-chat', 'deepseek-chat', false, false],
    ['claude-sonnet-4-5-chat', 'claude-sonnet-4-5-chat', false, false],
  ])('%s', (name, base, progress, thinking) => {
    expect(parseModelSuffixes(name)).toEqual({ base, progress, thinking });
  });

  it('routes to the base model with progress markers on, like "-progress"', () => {
    const router = new Router([provider('claude-cli', ['claude-sonnet-4-5']), provider('openai-compatible', ['deepseek-chat'])]);
    const viaChat = router.resolve('claude-sonnet-4-5-chat-progress');
    expect({ provider: viaChat.provider.id, model: viaChat.model, progress: viaChat.progress }).toEqual({ provider: 'claude-cli', model: 'claude-sonnet-4-5', progress: true });
    const viaOwn = router.resolve('claude-sonnet-4-5-progress');
    expect({ model: viaOwn.model, progress: viaOwn.progress }).toEqual({ model: viaChat.model, progress: viaChat.progress });
    // qualified names take it too
    expect(router.resolve('claude-cli/claude-sonnet-4-5-chat-progress')).toMatchObject({ model: 'claude-sonnet-4-5', progress: true });
    // a model that really ends in -chat is still found
    expect(router.resolve('deepseek-chat')).toMatchObject({ model: 'deepseek-chat', progress: false });
    // as in clis-wrapper, "-chat-progress" is read first: such a model asks for markers with it after its own name
    expect(router.resolve('deepseek-chat-chat-progress')).toMatchObject({ model: 'deepseek-chat', progress: true });
  });
});
