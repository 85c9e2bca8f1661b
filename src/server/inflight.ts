/**
 * The requests in flight, each with its abort controller and how its answer ends, so a
 * drain can wait for them and then end the stragglers: each answer first, in its dialect
 * (a stream's error event, else a 503), then the abort, which kills their CLI trees.
 */
/** ends a request's answer at once with this reason (the request knows its dialect and whether it streams) */
export type EndAnswer = (reason: unknown) => void;

export class InFlight {
  private readonly active = new Map<AbortController, EndAnswer | undefined>();
  private waiters: (() => void)[] = [];

  get size(): number {
    return this.active.size;
  }

  add(ctl: AbortController, end?: EndAnswer): () => void {
    this.active.set(ctl, end);
    return () => {
      if (!this.active.delete(ctl)) return; // already out
      if (this.active.size === 0) {
        this.waiters.forEach((w) => w());
        this.waiters = [];
      }
    };
  }

  /** resolves true when none is left, false when `ms` passed first */
  idle(ms: number): Promise<boolean> {
    if (this.active.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /** every answer ended with `reason`, then every request aborted */
  abortAll(reason: unknown): void {
    for (const [ctl, end] of [...this.active]) {
      end?.(reason);
      ctl.abort(reason);
    }
  }
}
