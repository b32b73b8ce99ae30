// hooklab export / import: a bin's captures as NDJSON (byte-exact) or HAR, to and from files.
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type Conn, CliError, EXIT, binIdOf, call } from '../client.ts';

export async function exportBin(c: Conn, bin: string, o: { format: string; out?: string }): Promise<void> {
  if (o.format !== 'ndjson' && o.format !== 'har') throw new CliError('--format must be ndjson or har', EXIT.usage);
  const res = await call(c, 'GET', `/api/bins/${binIdOf(bin)}/export?format=${o.format}`);
  const out = o.out ? createWriteStream(o.out) : process.stdout;
  await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), out);
}

export async function importBin(c: Conn, bin: string, file: string): Promise<void> {
  try {
    await stat(file);
  } catch {
    throw new CliError(`cannot read ${file}`, EXIT.usage);
  }
  const har = /\.(har|json)$/i.test(file);
  const res = await call(c, 'POST', `/api/bins/${binIdOf(bin)}/import`, {
    body: Readable.toWeb(createReadStream(file)) as unknown as BodyInit,
    type: har ? 'application/json' : 'application/x-ndjson',
  });
  const r = (await res.json()) as { imported: number; evicted: number };
  process.stderr.write(`imported ${r.imported} capture(s)${r.evicted ? `; ${r.evicted} older one(s) made room` : ''}\n`);
}
