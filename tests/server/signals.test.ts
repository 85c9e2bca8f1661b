/**
 * Stop signals (src/server/signals.ts) on a stand-in process and clock: one drain per stop
 * however many relays deliver it, a second stop only warns, a third or SIGQUIT exits at once.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { handleSignals } from '../../src/server/signals.js';

function setup(drain: () => Promise<void> = () => new Promise(() => {})) {
  const proc = new EventEmitter() as EventEmitter & { exit(code: number): void; exits: number[] };
  proc.exits = [];
  proc.exit = (code: number) => void proc.exits.push(code);
  let t = 1_000_000;
  const lines: { level: string; msg: string }[] = [];
  const at = (level: string) => (_o: object, msg: string) => void lines.push({ level, msg });
  const log = { info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') };
  let drains = 0;
  handleSignals({
    drain: () => {
      drains += 1;
      return drain();
    },
    log: log as never,
    proc: proc as never,
    now: () => t,
  });
  return {
    send: (s: NodeJS.Signals) => proc.emit(s),
    advance: (ms: number) => (t += ms),
    drains: () => drains,
    exits: proc.exits,
    lines,
  };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('stop signals', () => {
  it('SIGTERM drains once, then exits 0', async () => {
    let finish!: () => void;
    const s = setup(() => new Promise<void>((r) => (finish = r)));
    s.send('SIGTERM');
    expect(s.drains()).toBe(1);
    expect(s.exits).toEqual([]);
    finish();
    await settle();
    expect(s.exits).toEqual([0]);
  });

  it('a stop relayed several times (process group plus npm or node --watch) is one stop', () => {
    const s = setup();
    s.send('SIGINT'); // from the terminal's group
    s.advance(3);
    s.send('SIGINT'); // relayed by the launcher
    s.advance(2);
    s.send('SIGINT'); // node --watch relays twice
    expect(s.drains()).toBe(1);
    expect(s.exits).toEqual([]);
    expect(s.lines.filter((l) => l.level === 'warn')).toEqual([]);
  });

  it('a second stop during the drain only says how to force it; a third exits at once', () => {
    const s = setup();
    s.send('SIGTERM');
    s.advance(5000);
    s.send('SIGTERM');
    expect(s.exits).toEqual([]);
    expect(s.lines.at(-1)).toMatchObject({ level: 'warn', msg: expect.stringMatching(/once more, or SIGQUIT/) });
    s.advance(5000);
    s.send('SIGINT');
    expect(s.exits).toEqual([1]);
    expect(s.drains()).toBe(1);
  });

  it('SIGQUIT exits at once, draining or not', () => {
    const s = setup();
    s.send('SIGQUIT');
    expect(s.exits).toEqual([1]);
    expect(s.drains()).toBe(0);
  });

  it('a failed drain exits 1', async () => {
    const s = setup(() => Promise.reject(new Error('boom')));
    s.send('SIGTERM');
    await settle();
    expect(s.exits).toEqual([1]);
    expect(s.lines.some((l) => l.level === 'error')).toBe(true);
  });
});
