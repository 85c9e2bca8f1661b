/**
 * Work that must finish but need not hold a response (removing a sandbox, recording
 * a pending cleanup). Tracked, so shutdown can wait for it; failures are reported,
 * never thrown at a client that has already been answered.
 */
const pending = new Set<Promise<unknown>>();

export function inBackground(work: () => Promise<unknown>, onError: (err: unknown) => void): void {
  const p = work().catch(onError);
  pending.add(p);
  void p.finally(() => pending.delete(p));
}

/** resolves when all background work started so far has settled */
export async function backgroundSettled(): Promise<void> {
  while (pending.size) await Promise.allSettled([...pending]);
}
