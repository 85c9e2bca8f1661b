/**
 * `npm start`: the server from its bundle (dist/main.js, see scripts/bundle.js), built first
 * when src/ or the dependencies changed since it was made; in this process, so signals sent to
 * npm's child reach the server itself. `npm run dev` runs the sources through tsx instead.
 */
import { pathToFileURL } from 'node:url';
import { currentBundle } from './bundle.js';

const bundle = await currentBundle();
// as if started as `node dist/main.js <args>`
process.argv[1] = bundle;
await import(pathToFileURL(bundle).href);
