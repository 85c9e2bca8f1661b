/**
 * opencode 1.18.33 (the real `opencode`, opencode-ai) as a client of cligate's OpenAI chat surface
 * (POST /v1/chat/completions, streamed), configured as a user would: a provider `cligate` in
 * ~/.config/opencode/opencode.json through the bundled @ai-sdk/openai-compatible, baseURL <cligate>/v1,
 * the cligate key as apiKey; `opencode run -m cligate/local-coder --format json [--auto] [--thinking] [-f pixel.png --] "<prompt>"`
 * with OPENCODE_DISABLE_AUTOUPDATE=1 OPENCODE_DISABLE_MODELS_FETCH=1, a throwaway HOME and TMPDIR, stdin closed.
 * The model is served by cligate's openai-compatible provider (the fake OpenAI).
 *
 * - a prompt completes: a title call (no tools) first, then the task (non-standard cache_control,
 *   max_tokens 32000, x-session-id / x-session-affinity accepted);
 * - reasoning_content from the upstream comes out as opencode's reasoning part;
 * - a round trip with opencode's own `bash` tool (its assistant tool-call message has content ""):
 *   opencode runs it and sends the tool message back through cligate;
 * - an image attached with -f reaches the upstream as an image part.
 * opencode asks the npm registry for @opencode-ai/plugin and @opentui/core at run time (it goes on
 * if that fails). No process may outlive a test.
 */
import { opencodeLikeSuite } from '../helpers/opencode-like.js';

const TEST_TIMEOUT = 120_000;

opencodeLikeSuite({
  kind: 'opencode',
  label: 'opencode (opencode run)',
  shellTool: 'bash',
  headers: { 'user-agent': /^opencode\/1\.18\.33 /, 'x-session-id': /^ses_/ },
  titleCall: 'first',
  testTimeoutMs: TEST_TIMEOUT,
});
