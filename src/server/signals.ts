/**
 * Who stops the server, and how. SIGTERM or SIGINT drains once (see start.ts: stop accepting,
 * SHUTDOWN_GRACE for running requests, then every open answer ended in its dialect, CLIs
 * killed, sandboxes removed) and exits 0.
 *
 * One stop often arrives as several deliveries of the same signal: Ctrl-C signals the whole
 * process group, and the launcher above the server (npm, node --watch) relays it once more
 * (node --watch even twice). Deliveries within `relayWindowMs` of the last counted one are the
 * same stop. A second stop during the drain only says how to force it; a third, or SIGQUIT at
 * any time, exits at once (the exit hook still kills the CLIs and removes the sandboxes).
 */
import type { Logger } from '../log.js';

export interface SignalSource {
  on(signal: NodeJS.Signals, listener: () => void): unknown;
  exit(code: number): never | void;
}

export interface SignalOptions {
  /** the drain; resolves when everything is released */
  drain(): Promise<void>;
  log: Pick<Logger, 'info' | 'warn' | 'error' | 'debug'>;
  /** deliveries closer than this to the last counted one are relays of it (default 1000 ms) */
  relayWindowMs?: number;
  /** process, or a stand-in for tests */
  proc?: SignalSource;
  now?: () => number;
}

export const RELAY_WINDOW_MS = 1000;

export function handleSignals(opts: SignalOptions): void {
  const proc = opts.proc ?? process;
  const now = opts.now ?? Date.now;
  const window = opts.relayWindowMs ?? RELAY_WINDOW_MS;
  const { log } = opts;
  let stops = 0;
  let last = -Infinity;
  let started = 0;

  const stop = (signal: NodeJS.Signals) => {
    const t = now();
    if (stops > 0 && t - last < window) {
      log.debug({ signal }, 'signal relayed again: the same stop');
      return;
    }
    stops += 1;
    last = t;
    if (stops === 1) {
      started = t;
      log.info({ signal }, 'shutting down: draining');
      opts.drain().then(
        () => proc.exit(0),
        (err: unknown) => {
          log.error({ err: String(err) }, 'drain failed');
          proc.exit(1);
        },
      );
      return;
    }
    if (stops === 2) {
      log.warn({ signal, drainingForMs: t - started }, 'already draining; send the signal once more, or SIGQUIT, to exit at once');
      return;
    }
    log.warn({ signal }, 'third stop signal: exiting now');
    proc.exit(1);
  };

  proc.on('SIGTERM', () => stop('SIGTERM'));
  proc.on('SIGINT', () => stop('SIGINT'));
  proc.on('SIGQUIT', () => {
    log.warn({ signal: 'SIGQUIT' }, 'SIGQUIT: exiting now');
    proc.exit(1);
  });
}
