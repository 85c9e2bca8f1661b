// Preloaded (node --expose-gc --import) into a server that bench/memory measures: on the message
// "gc" from the bench (over the IPC channel it was started with), two full garbage collections,
// then the JavaScript heap still in use. Resident memory read after it counts what is retained,
// not garbage the collector has not reached yet. The channel does not keep the process alive.
process.channel?.unref();
process.on('message', (m) => {
  if (m !== 'gc') return;
  globalThis.gc();
  globalThis.gc();
  process.send({ heapUsed: process.memoryUsage().heapUsed });
});
