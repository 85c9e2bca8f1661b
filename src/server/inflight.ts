/**
 * The requests in flight, each with its abort controller, so a drain can wait for
 * them and then abort the stragglers (which kills their CLI trees).
 */
export class InFlight {
  private readonly active = new Set<AbortController>();
  private waiters: (() => void)[] = [];

  get size(): number {
    return this.active.size;
  }

  add(ctl: AbortController): () => void {
    this.active.add(ctl);
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

  abortAll(reason: unknown): void {
    for (const ctl of this.active) ctl.abort(reason);
  }
}
