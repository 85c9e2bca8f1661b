/**
 * One refresh at a time per account: callers that arrive while a refresh runs wait
 * for it and share its result or its error (errors are surfaced to every waiter).
 */
export class SingleFlight<T> {
  private readonly running = new Map<string, Promise<T>>();

  run(key: string, work: () => Promise<T>): Promise<T> {
    const current = this.running.get(key);
    if (current) return current;
    const p = work().finally(() => this.running.delete(key));
    this.running.set(key, p);
    return p;
  }

  inFlight(key: string): boolean {
    return this.running.has(key);
  }
}
