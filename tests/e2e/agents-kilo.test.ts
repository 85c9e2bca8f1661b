/**
 * Kilo Code CLI 7.7.7 (the real `kilo`, @kilocode/cli) as a client of cligate's OpenAI chat surface
 * (POST /v1/chat/completions, streamed), configured as a user would: a provider `cligate` in
 * ~/.config/kilo/kilo.json through the bundled @ai-sdk/openai-compatible, baseURL <cligate>/v1, the
 * cligate key as apiKey; `kilo run -m cligate/local-coder --format json [--auto] [--thinking] [-f pixel.png --] "<prompt>"`
 * with KILO_DISABLE_AUTOUPDATE=1 KILO_DISABLE_MODELS_FETCH=1, a throwaway HOME and TMPDIR, stdin closed.
 * The model is served by cligate's openai-compatible provider (the fake OpenAI).
 *
 * - a prompt completes (with Kilo's non-standard cache_control, max_tokens 32000, x-session-id /
 *   x-session-affinity, http-referer and x-title headers accepted);
 * - reasoning_content from the upstream comes out as Kilo's reasoning part;
 * - a round trip with Kilo's own `bash` tool: Kilo runs it and sends the tool message back through cligate;
 * - an image attached with -f reaches the upstream as an image part.
 * Kilo takes 13–30 s per run here (its own gateway fetches fail, telemetry shutdown waits): generous timeouts.
 * No process may outlive a test.
 */
import { opencodeLikeSuite } from '../helpers/opencode-like.js';

const TEST_TIMEOUT = 150_000;

opencodeLikeSuite({
  kind: 'kilo',
  label: 'Kilo Code CLI (kilo run)',
  shellTool: 'bash',
  headers: { 'http-referer': 'https://kilocode.ai', 'x-title': 'Kilo Code', 'user-agent': /^Kilo-Code\/7\.7\.7 /, 'x-session-id': /^ses_/ },
  titleCall: 'sometimes',
  testTimeoutMs: TEST_TIMEOUT,
});
