/**
 * .env.example is what a newcomer copies to .env: loaded as it is, it must give the defaults, and it
 * must not undo what the Docker image sets. Compose's `env_file` puts every uncommented line into the
 * container's environment, over the image's ENV (an empty `STATE_DIR=` moved the state out of the
 * /data volume); only compose's own `environment:` wins over `env_file`.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { parse as parseYaml } from 'yaml';
import { DockerfileParser } from 'dockerfile-ast';
import { loadConfig } from '../../src/config.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const read = (f: string) => readFileSync(path.join(ROOT, f), 'utf8');
const example = parseDotenv(read('.env.example'));

/** NAME -> value of the ENV instructions of the Dockerfile's last (runtime) stage */
function imageEnv(): Record<string, string> {
  const file = DockerfileParser.parse(read('Dockerfile'));
  const stages = file.getFROMs();
  const last = stages[stages.length - 1]!.getRange().start.line;
  const out: Record<string, string> = {};
  for (const ins of file.getInstructions()) {
    if (ins.getKeyword() !== 'ENV' || ins.getRange().start.line < last) continue;
    for (const p of (ins as unknown as { getProperties(): { getName(): string; getValue(): string | null }[] }).getProperties()) out[p.getName()] = p.getValue() ?? '';
  }
  return out;
}

describe('.env.example', () => {
  it('loaded as it is, gives exactly the built-in defaults (every value shown is the default)', () => {
    expect(JSON.parse(JSON.stringify(loadConfig(example)))).toEqual(JSON.parse(JSON.stringify(loadConfig({}))));
  });

  it('copied to .env for docker compose, overrides none of the image ENV that compose does not set itself', () => {
    const env = imageEnv();
    expect(env).toHaveProperty('STATE_DIR');
    const compose = parseYaml(read('docker-compose.yml')) as { services: { cligate: { environment?: Record<string, string> } } };
    const fixed = compose.services.cligate.environment ?? {};
    for (const [name, value] of Object.entries(env)) {
      if (!(name in example)) continue;
      // a line .env.example sets reaches the container over the image's value unless compose's environment sets it
      expect(fixed[name], `${name}: .env.example sets "${example[name]}", the image "${value}"; comment it out in .env.example or set it in docker-compose.yml's environment`).toBe(value);
    }
  });
});
