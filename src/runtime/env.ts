/**
 * The environment a CLI child gets: only what it needs. HOME stays so the user's
 * CLI login works; host details (PWD, npm_*, editor/session variables) do not leak.
 */

const BASE_NAMES = [
  'HOME', 'PATH', 'USER', 'LOGNAME', 'LANG', 'LANGUAGE', 'TZ', 'TMPDIR', 'TERM',
  'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy',
  'NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE', 'SSL_CERT_DIR', 'XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'XDG_CACHE_HOME',
];
const BASE_PREFIXES = ['LC_'];

/**
 * @param source the server's environment
 * @param prefixes provider variables to pass through, e.g. ["ANTHROPIC_", "CLAUDE_"]
 * @param overrides values that win over the source (e.g. settings the provider forces)
 */
export function childEnv(
  source: NodeJS.ProcessEnv,
  prefixes: readonly string[],
  overrides: Record<string, string> = {},
): Record<string, string> {
  const out: Record<string, string> = {};
  const allowedPrefixes = [...BASE_PREFIXES, ...prefixes];
  for (const [name, value] of Object.entries(source)) {
    if (value === undefined) continue;
    if (BASE_NAMES.includes(name) || allowedPrefixes.some((p) => name.startsWith(p))) out[name] = value;
  }
  return { ...out, ...overrides };
}
