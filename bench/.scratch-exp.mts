// scratch experiment (not committed)
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { connectSubscriber, createBin, receiverUrl, newDataDir, removeDataDir } from './lib/hooklab.ts';
import { PAYLOAD, PAYLOAD_HEADERS } from './lib/payload.ts';
import { cpuMs } from './lib/proc.ts';
const root = process.argv[2]; const withSub = process.argv[3] === 'sub';
const dir = await newDataDir();
const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], { cwd: root, env: { ...process.env, PORT: '0', DATA_DIR: dir }, stdio: ['ignore', 'pipe', 'inherit'] });
const base: string = await new Promise((res) => { let o = ''; child.stdout!.on('data', (d) => { o += d; const m = /listening on (http:\/\/[^\s"]+)/.exec(o); if (m) res(m[1]); }); });
const bin = await createBin(base);
let sub: any = null;
if (withSub) { sub = await connectSubscriber(base); await sub.subscribe(bin.id); }
const run = (d: number) => new Promise<any>((res, rej) => autocannon({ url: receiverUrl(base, bin.id), method: 'POST', connections: 50, duration: d, body: PAYLOAD, headers: PAYLOAD_HEADERS }, (e: any, r: any) => e ? rej(e) : res(r)));
await run(2);
const c0 = cpuMs(child.pid!)!; const t0 = performance.now();
const r = await run(10);
const cpu = (cpuMs(child.pid!)! - c0) / (performance.now() - t0) * 100;
await new Promise((r) => setTimeout(r, 500));
console.log(root, withSub ? 'sub' : 'nosub', 'req/s', Math.round(r.requests.average), '2xx', r['2xx'], 'events', sub ? sub.counts.get(bin.id) : '-', 'serverCPU', Math.round(cpu) + '%');
sub?.close(); child.kill('SIGTERM'); await new Promise((r) => child.once('exit', r)); await removeDataDir(dir); process.exit(0);
