import { runCli, liveProcessCount } from './src/runtime/process.ts';
const ctl = new AbortController();
const run = runCli({ command: 'bash', args: ['-c', 'sleep 300 & echo $!; setsid sleep 301 & echo $!; sleep 300'], cwd: '/tmp', env: { PATH: process.env.PATH! }, signal: ctl.signal, timeoutMs: 60000 });
const pids: number[] = [];
for await (const l of run.lines()) { pids.push(Number(l)); if (pids.length === 2) break; }
console.log('pids', pids, run.pid);
const { execSync } = await import('node:child_process');
console.log(execSync(`ps -o pid,ppid,pgid,sid,stat,comm -p ${pids.join(',')},${run.pid}`).toString());
const t = Date.now();
ctl.abort();
const exit = await run.exit;
console.log(exit, Date.now() - t, liveProcessCount());
await new Promise(r => setTimeout(r, 200));
try { console.log(execSync(`ps -o pid,ppid,pgid,stat,comm -p ${pids.join(',')}`).toString()); } catch (e) { console.log('none'); }
for (const p of pids) { try { process.kill(p, 0); console.log(p, 'alive'); } catch (e: any) { console.log(p, e.code); } }
