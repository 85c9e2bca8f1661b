/** What every fake upstream shares: a loopback HTTP server that reads JSON bodies and can be closed hard. */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface FakeRequest {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  /** the URL path without its query */
  path: string;
  /** raw body text, and the body parsed as JSON when it is JSON */
  raw: string;
  body: any;
}

export interface FakeServer {
  url: string;
  port: number;
  /** closes the listener and destroys open sockets (hanging requests too) */
  close(): Promise<void>;
}

export function sendJson(res: http.ServerResponse, status: number, obj: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(obj));
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startFakeServer(handle: (r: FakeRequest) => Promise<void> | void): Promise<FakeServer> {
  const sockets = new Set<Socket>();
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    try {
      for await (const c of req) chunks.push(c as Buffer);
    } catch {
      return; // the client went away mid-body
    }
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: any;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      body = raw;
    }
    await handle({ req, res, path: (req.url ?? '/').split('?')[0] ?? '/', raw, body });
  });
  server.on('connection', (sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close() {
      for (const sock of sockets) sock.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
