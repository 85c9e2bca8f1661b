/** Small network helpers shared by tests and benchmarks. */
import net from 'node:net';

/** a port free on 127.0.0.1 right now */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as net.AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

/** polls until `url` answers 2xx, or throws naming `what` */
export async function waitUntilUp(url: string, what: string, tries = 200, stepMs = 100): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await fetch(url).then((r) => r.ok, () => false)) return;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  throw new Error(`${what} did not start`);
}

/** fetch, with the body read as text and parsed as JSON when it is JSON */
export async function fetchJson(url: string, init: RequestInit = {}): Promise<{ status: number; headers: Headers; text: string; json: any }> {
  const r = await fetch(url, init);
  const text = await r.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: r.status, headers: r.headers, text, json };
}
