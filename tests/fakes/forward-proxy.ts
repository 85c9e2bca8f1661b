/** A minimal HTTP forward proxy: CONNECT tunnels and absolute-form requests, each recorded. */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface ForwardProxy {
  url: string;
  tunnels: string[];
  plain: string[];
  close(): Promise<void>;
}

export async function startForwardProxy(): Promise<ForwardProxy> {
  const tunnels: string[] = [];
  const plain: string[] = [];
  const proxy = http.createServer((req, res) => {
    plain.push(req.url ?? '');
    const up = http.request(req.url!, { method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  proxy.on('connect', (req, socket, head) => {
    tunnels.push(req.url ?? '');
    const [host, port] = (req.url ?? '').split(':');
    const up = net.connect(Number(port), host, () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      up.write(head);
      up.pipe(socket);
      socket.pipe(up);
    });
    up.on('error', () => socket.destroy());
    socket.on('error', () => up.destroy());
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    tunnels,
    plain,
    async close() {
      proxy.closeAllConnections();
      await new Promise((r) => proxy.close(r));
    },
  };
}
