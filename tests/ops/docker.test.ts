/**
 * The Dockerfile and docker-compose.yml, checked statically (no Docker engine runs here):
 * the Dockerfile lints clean (dockerfile-utils, the linter of the VS Code Docker tooling;
 * hadolint as well when installed) and has what the image needs; the compose file parses
 * and has the mounts, ports, env and profiles; both agree with package-lock and the README.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { validate, type ValidatorSettings } from 'dockerfile-utils';
import { DockerfileParser } from 'dockerfile-ast';
import { parse as parseYaml } from 'yaml';
import { ROOT } from '../helpers/claude-env.js';

const read = (f: string) => readFileSync(path.join(ROOT, f), 'utf8');
const dockerfile = read('Dockerfile');
const compose = parseYaml(read('docker-compose.yml')) as any;
const readme = read('README.md');
const lock = JSON.parse(read('package-lock.json'));

/** every rule at "error" severity */
const STRICT: ValidatorSettings = {
  deprecatedMaintainer: 1 as never,
  directiveCasing: 1 as never,
  emptyContinuationLine: 1 as never,
  instructionCasing: 1 as never,
  instructionCmdMultiple: 1 as never,
  instructionEntrypointMultiple: 1 as never,
  instructionHealthcheckMultiple: 1 as never,
  instructionJSONInSingleQuotes: 1 as never,
  instructionWorkdirRelative: 1 as never,
};

const CLIS = [
  { arg: 'CLAUDE_CODE_VERSION', pkg: '@anthropic-ai/claude-code', home: '.claude' },
  { arg: 'GEMINI_CLI_VERSION', pkg: '@google/gemini-cli', home: '.gemini' },
  { arg: 'QWEN_CODE_VERSION', pkg: '@qwen-code/qwen-code', home: '.qwen' },
  { arg: 'CODEX_VERSION', pkg: '@openai/codex', home: '.codex' },
];

function hasHadolint(): boolean {
  try {
    execFileSync('hadolint', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('Dockerfile', () => {
  const ast = DockerfileParser.parse(dockerfile);
  const froms = ast.getFROMs();
  const finalStart = froms.at(-1)!.getRange().start.line;
  const final = ast.getInstructions().filter((i) => i.getRange().start.line >= finalStart);
  const finalOf = (kw: string) => final.filter((i) => i.getKeyword() === kw);

  it('lints clean, and the linter does catch a broken file', () => {
    expect(validate(dockerfile, STRICT)).toEqual([]);
    const broken = validate('FROM node:20\nCMD [\'node\', \'x.js\']\nCMD ["node"]\nWORKDIR app\nEXPOSE notaport\n', STRICT);
    expect(broken.length).toBeGreaterThanOrEqual(3);
  });

  it.skipIf(!hasHadolint())('passes hadolint', () => {
    execFileSync('hadolint', [path.join(ROOT, 'Dockerfile')], { stdio: 'pipe' });
  });

  it('is multi-stage: builds with dev dependencies, runs with production ones only', () => {
    expect(froms.length).toBeGreaterThanOrEqual(2);
    const firstStage = ast.getInstructions().filter((i) => i.getRange().start.line < finalStart);
    expect(firstStage.some((i) => i.getKeyword() === 'RUN' && /npm ci(?!.*--omit=dev)/.test(i.getRawArgumentsContent()!))).toBe(true);
    expect(firstStage.some((i) => i.getKeyword() === 'RUN' && /npm run build/.test(i.getRawArgumentsContent()!))).toBe(true);
    const runs = finalOf('RUN').map((i) => i.getRawArgumentsContent()!);
    expect(runs.some((r) => /npm ci .*--omit=dev/.test(r))).toBe(true);
    const fromBuild = finalOf('COPY').filter((c) => (c as unknown as { getFlags(): { getName(): string; getValue(): string }[] }).getFlags().some((f) => f.getName() === 'from' && f.getValue() === 'build'));
    expect(fromBuild.map((c) => c.getRawArgumentsContent()!)).toEqual(['/app/dist ./dist']);
  });

  it('installs each vendor CLI globally at the version package-lock pins, from a build arg', () => {
    const install = finalOf('RUN').map((i) => i.getRawArgumentsContent()!).find((r) => /npm install -g/.test(r))!;
    expect(install).toBeTruthy();
    for (const c of CLIS) {
      const arg = finalOf('ARG').find((a) => a.getRawArgumentsContent()!.startsWith(`${c.arg}=`));
      expect(arg?.getRawArgumentsContent()!, c.arg).toBe(`${c.arg}=${lock.packages[`node_modules/${c.pkg}`].version}`);
      expect(install).toContain(`${c.pkg}@\${${c.arg}}`);
    }
  });

  it('runs as a non-root user whose HOME holds the CLI folders, with a health check and signals reaching node', () => {
    const user = finalOf('USER').at(-1)?.getRawArgumentsContent()!;
    expect(user).toBeTruthy();
    expect(user).not.toMatch(/^(root|0)$/);
    const env = finalOf('ENV').map((e) => e.getRawArgumentsContent()!).join(' ');
    expect(env).toMatch(/HOME=\/home\/node/);
    expect(env).toMatch(/DATA_DIR=\/data/);
    for (const c of CLIS) expect(dockerfile).toContain(`/home/node/${c.home}`);
    const hc = finalOf('HEALTHCHECK')[0]!.getRawArgumentsContent()!;
    expect(hc).toMatch(/CMD \[/);
    expect(hc).toContain('/health');
    // exec form, under an init that forwards SIGTERM
    const entry = finalOf('ENTRYPOINT')[0]!.getRawArgumentsContent()!;
    expect(JSON.parse(entry)).toEqual(['/usr/bin/tini', '--']);
    expect(JSON.parse(finalOf('CMD')[0]!.getRawArgumentsContent()!)).toEqual(['node', 'dist/main.js']);
    expect(finalOf('EXPOSE')[0]!.getRawArgumentsContent()!).toBe('8000');
  });

  it('.dockerignore keeps secrets, data and node_modules out of the context', () => {
    const ignore = read('.dockerignore').split('\n');
    for (const p of ['node_modules', '.env', 'data', '.git']) expect(ignore).toContain(p);
  });
});

describe('docker-compose.yml', () => {
  const app = compose.services.cligate;

  it('mounts the CLI logins into the container HOME and a data volume, publishes 8000, reads .env, restarts', () => {
    for (const c of CLIS) expect(app.volumes).toContain(`\${HOME}/${c.home}:/home/node/${c.home}`);
    expect(app.volumes).toContain('cligate-data:/data');
    expect(compose.volumes).toHaveProperty('cligate-data');
    expect(app.ports).toEqual(['${CLIGATE_PORT:-8000}:8000']);
    expect(app.env_file).toEqual([{ path: '.env', required: false }]);
    expect(app.environment).toMatchObject({ HOST: '0.0.0.0', PORT: '8000', DATA_DIR: '/data' });
    expect(app.restart).toBe('unless-stopped');
    // longer than SHUTDOWN_GRACE, so a drain is not cut by SIGKILL
    expect(Number.parseInt(app.stop_grace_period, 10)).toBeGreaterThan(30);
  });

  it('passes the same CLI versions as the Dockerfile defaults', () => {
    for (const c of CLIS) expect(app.build.args[c.arg], c.arg).toBe(lock.packages[`node_modules/${c.pkg}`].version);
  });

  it('has Redis behind the "redis" profile', () => {
    expect(compose.services.redis.profiles).toEqual(['redis']);
    expect(compose.services.redis.image).toMatch(/^redis:/);
    expect(compose.services.redis.restart).toBe('unless-stopped');
  });

  it('the README says the same: commands, mounts, build args and the Redis profile', () => {
    expect(readme).toContain('docker compose up -d');
    expect(readme).toContain('docker compose --profile redis up -d');
    expect(readme).toContain('REDIS_URL=redis://redis:6379');
    for (const c of CLIS) {
      expect(readme).toContain(`/home/node/${c.home}`);
      expect(readme).toContain(c.arg);
    }
  });
});
