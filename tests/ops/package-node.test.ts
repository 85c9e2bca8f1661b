/**
 * Which Node runs cligate, checked statically: package.json's engines, the Docker image's
 * NODE_VERSION (a maintained LTS, the same in docker-compose.yml) and the README agree, and the
 * engines floor covers what the code uses (util.styleText and import.meta.dirname: Node 20.12).
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { DockerfileParser } from 'dockerfile-ast';
import { parse as parseYaml } from 'yaml';
import { ROOT } from '../helpers/claude-env.js';

const read = (f: string) => readFileSync(path.join(ROOT, f), 'utf8');
const pkg = JSON.parse(read('package.json')) as { engines: { node: string } };
const dockerfile = DockerfileParser.parse(read('Dockerfile'));
const compose = parseYaml(read('docker-compose.yml')) as any;

/** Node release lines maintained now (LTS or current): 20 left maintenance in April 2026 */
const MAINTAINED_LTS = ['22', '24'];

describe('Node versions', () => {
  const arg = dockerfile.getARGs().find((a) => a.getProperty()?.getName() === 'NODE_VERSION')!;
  const imageNode = arg.getProperty()!.getValue()!;

  it('the image runs a maintained LTS, and docker compose builds the same', () => {
    expect(MAINTAINED_LTS).toContain(imageNode);
    for (const from of dockerfile.getFROMs()) expect(from.getImageName() + ':' + from.getImageTag()).toBe('node:${NODE_VERSION}-bookworm-slim');
    expect(compose.services.cligate.build.args.NODE_VERSION).toBe(imageNode);
  });

  it('engines names a floor that the image and the tested versions meet', () => {
    const floor = /^>=(\d+)\.(\d+)$/.exec(pkg.engines.node);
    expect(floor, pkg.engines.node).not.toBeNull();
    expect([Number(floor![1]), Number(floor![2])]).toEqual([20, 12]);
    expect(Number(imageNode)).toBeGreaterThanOrEqual(Number(floor![1]));
    // the Node running this test is one the package accepts
    const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
    expect(major > 20 || (major === 20 && minor >= 12)).toBe(true);
  });

  it('the README says which versions are supported and tested', () => {
    const readme = read('README.md');
    expect(readme).toContain(`engines: node ${pkg.engines.node}`);
    expect(readme).toMatch(/Node 24/);
  });
});

describe('install scripts', () => {
  it("the pinned Claude Code's and opencode's postinstalls are allowed, and Claude Code's native binary is in place (npm 11 runs no script allowScripts does not list)", () => {
    const allow = (JSON.parse(read('package.json')) as { allowScripts: Record<string, boolean> }).allowScripts;
    expect(allow['@anthropic-ai/claude-code']).toBe(true);
    // opencode's postinstall links its platform binary the same way
    expect(allow['opencode-ai']).toBe(true);
    // the package ships a ~500-byte stub that the postinstall replaces with the native binary
    const size = statSync(path.join(ROOT, 'node_modules', '@anthropic-ai', 'claude-code', 'bin', 'claude.exe')).size;
    expect(size, 'node_modules/@anthropic-ai/claude-code/bin/claude.exe is the stub: its postinstall did not run').toBeGreaterThan(1_000_000);
  });
});
