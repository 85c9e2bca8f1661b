/** Public model names -> Kiro model ids. Kiro's own names use dots ("claude-sonnet-4.5"). */

export const KIRO_MODEL_IDS: Record<string, string> = {
  'claude-sonnet-4.5': 'CLAUDE_SONNET_4_5_20250929_V1_0',
  'claude-sonnet-4': 'CLAUDE_SONNET_4_20250514_V1_0',
  'claude-3.7-sonnet': 'CLAUDE_3_7_SONNET_20250219_V1_0',
  'claude-haiku-4.5': 'claude-haiku-4.5',
  'claude-opus-4.5': 'claude-opus-4.5',
  auto: 'CLAUDE_SONNET_4_5_20250929_V1_0',
};

export const DEFAULT_KIRO_MODELS = ['claude-sonnet-4.5', 'claude-sonnet-4', 'claude-haiku-4.5', 'claude-opus-4.5', 'claude-3.7-sonnet'];

/** the id Kiro expects; unknown names pass through (Kiro accepts its own ids as they are) */
export function kiroModelId(model: string): string {
  return KIRO_MODEL_IDS[model] ?? model;
}
