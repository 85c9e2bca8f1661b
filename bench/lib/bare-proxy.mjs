// The cheapest possible extra hop, for scale: a node:http server that relays each request's
// bytes to the upstream with undici and pipes the answer back, nothing parsed. Whatever it
// adds is what one more node process on the path costs on this machine.
// Usage: node bare-proxy.mjs <upstream chat-completions URL>; prints its port.
import http from 'node:http';
import { pipeline } from 'node:stream/promises';
import { Agent, request } from 'undici';

const upstream = process.argv[2];
const dispatcher = new Agent({ keepAliveTimeout: 30_000 });
const server = http.createServer(async (req, res) => {
  try {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const up = await request(upstream, { method: 'POST', headers: { 'content-type': 'application/json', authorization: req.headers.authorization ?? '' }, body: Buffer.concat(chunks), dispatcher });
    res.writeHead(up.statusCode, { 'content-type': up.headers['content-type'] ?? 'application/json' });
    await pipeline(up.body, res);
  } catch (err) {
    if (!res.headersSent) res.writeHead(502);
    res.end(String(err));
  }
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
