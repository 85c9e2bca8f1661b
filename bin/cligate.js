#!/usr/bin/env node
// The `cligate` command: runs the compiled output (dist/bin.js). In a clone, dist/ is made by
// `npm run build` (npm pack builds it for the package): say so rather than fail with "not found".
import { existsSync } from 'node:fs';

const entry = new URL('../dist/bin.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('cligate: dist/ is not built here: run `npm run build` first (or `npm start`, which builds what it runs, or `npm run doctor`, which runs the sources)\n');
  process.exit(1);
}
await import(entry.href);
