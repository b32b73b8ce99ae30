// hooklab export / import: a bin's captures as NDJSON (byte-exact) or HAR, to and from files.
// A file that cannot be read or written is said as such (the file and the problem, exit 2),
// never as a server that cannot be reached.
import { open } from 'node:fs/promises';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type Conn, CliError, EXIT, binIdOf, call, fileError, noSuchBin, readJson } from '../client.ts';

export async function exportBin(c: Conn, bin: string, o: { format: string; out?: string }): Promise<void> {
  if (o.format !== 'ndjson' && o.format !== 'har') throw new CliError('--format must be ndjson or har', EXIT.usage);
  const binId = binIdOf(bin);
  const res = await call(c, 'GET', `/api/bins/${binId}/export?format=${o.format}`).catch((e) => {
    throw noSuchBin(e, binId, c);
  });
  // The file is opened once the server has answered: an unknown bin leaves no empty file behind.
  let out: Writable = process.stdout;
  if (o.out) {
    try {
      out = (await open(o.out, 'w')).createWriteStream();
    } catch (e) {
      await res.body?.cancel();
      throw fileError(o.out, 'write', e);
    }
  }
  let writeError: unknown = null;
  out.once('error', (e) => (writeError ??= e));
  try {
    await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), out);
  } catch (e) {
    if (writeError && o.out) throw fileError(o.out, 'write', writeError);
    if (writeError) throw new CliError(`cannot write the export to stdout: ${(writeError as Error).message}`, EXIT.usage);
    throw new CliError(`lost the connection to hooklab at ${c.server} during the export (${(e as Error).message})${o.out ? `; ${o.out} is incomplete` : ''}`, EXIT.server, { transient: true });
  }
}

export async function importBin(c: Conn, bin: string, file: string): Promise<void> {
  const binId = binIdOf(bin);
  let fh;
  try {
    fh = await open(file, 'r');
    // Opening a directory succeeds; reading it does not.
    if ((await fh.stat()).isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
  } catch (e) {
    await fh?.close();
    throw fileError(file, 'read', e);
  }
  const har = /\.(har|json)$/i.test(file);
  const stream = fh.createReadStream();
  let readError: unknown = null;
  stream.once('error', (e) => (readError ??= e));
  let res: Response;
  try {
    res = await call(c, 'POST', `/api/bins/${binId}/import`, {
      body: Readable.toWeb(stream) as unknown as BodyInit,
      type: har ? 'application/json' : 'application/x-ndjson',
    });
  } catch (e) {
    // The upload failed because the file could not be read, not because of the server.
    if (readError) throw fileError(file, 'read', readError);
    // Refused for what the file holds (a bad line, too large): the file is named.
    if (e instanceof CliError && e.code === EXIT.usage && e.status !== 404) throw new CliError(`${file}: ${e.message}`, EXIT.usage, { status: e.status });
    throw noSuchBin(e, binId, c);
  } finally {
    stream.destroy();
  }
  const r = await readJson<{ imported: number; evicted: number }>(res, c);
  process.stderr.write(`imported ${r.imported} capture(s)${r.evicted ? `; ${r.evicted} older one(s) made room` : ''}\n`);
}
