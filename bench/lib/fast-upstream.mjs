// A minimal, fast OpenAI chat-completions upstream for benchmarks: canned answers, no
// bookkeeping, as little work per request as node's http allows. Prints its port.
import http from 'node:http';

const COMPLETION = JSON.stringify({
  id: 'chatcmpl-bench', object: 'chat.completion', created: 1, model: 'bench-model',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hello from the fast upstream.' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 9, completion_tokens: 6, total_tokens: 15 },
});
const chunk = (delta, finish) => `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1, model: 'bench-model', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
const STREAM = [
  chunk({ role: 'assistant', content: '' }, null),
  ...['Hello ', 'from ', 'the ', 'fast ', 'upstream.'].map((t) => chunk({ content: t }, null)),
  chunk({}, 'stop'),
  `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1, model: 'bench-model', choices: [], usage: { prompt_tokens: 9, completion_tokens: 6, total_tokens: 15 } })}\n\n`,
  'data: [DONE]\n\n',
].join('');

/** the same stream, a part every SLOW_PART_MS: for model "bench-slow", streams that stay open a while (bench/memory) */
const SLOW_PARTS = STREAM.split(/(?<=\n\n)/);
const SLOW_PART_MS = 300;
function streamSlowly(res) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  let i = 0;
  const next = () => {
    if (res.destroyed) return;
    res.write(SLOW_PARTS[i++]);
    if (i < SLOW_PARTS.length) setTimeout(next, SLOW_PART_MS);
    else res.end();
  };
  next();
}

const server = http.createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    if (body.includes('"stream":true') && body.includes('"model":"bench-slow"')) streamSlowly(res);
    else if (body.includes('"stream":true')) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.end(STREAM);
    } else {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(COMPLETION) });
      res.end(COMPLETION);
    }
  });
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
