// hooklab export / import: a bin's captures as NDJSON (byte-exact) or HAR, to and from files.
// A file that cannot be read or written is said as such (the file and the problem, exit 2),
// never as a server that cannot be reached; an export the server cut off, with the server's
// reason, and never left at --out looking complete.
import { open, realpath, rename, rm, stat } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { Readable, type Writable } from 'node:stream';
import { type Conn, CliError, EXIT, binIdOf, call, fileError, noSuchBin, readJson } from '../client.ts';
import { withoutToken } from '../token.ts';
import { ExportReader } from '../export-reader.ts';
import { SNIFF_BYTES, disagreement, formatOfContent, formatOfName } from '../import-format.ts';
import { EXPORT_COUNT_HEADER, exportMissingNote } from '../../../shared/export-note.ts';

export async function exportBin(c: Conn, bin: string, o: { format: string; out?: string }): Promise<void> {
  if (o.format !== 'ndjson' && o.format !== 'har') throw new CliError('--format must be ndjson or har', EXIT.usage);
  const binId = binIdOf(bin);
  const res = await call(c, 'GET', `/api/bins/${binId}/export?format=${o.format}`).catch((e) => {
    throw noSuchBin(e, binId, c);
  });
  // Read from now on, while the file is opened (see export-reader.ts).
  const body = new ExportReader((res.body as ReadableStream<Uint8Array>).getReader());
  // The file is opened once the server has answered: an unknown bin leaves no empty file behind.
  let target: OutFile | null = null;
  // Ctrl-C or SIGTERM midway: the .partial goes too (a large file left behind otherwise).
  // Listened for before it is made: a signal while it is being opened removes it as well.
  let partial: string | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    if (partial) rmSync(partial, { force: true });
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  if (o.out) {
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      target = await openOut(o.out, (p) => (partial = p));
    } catch (e) {
      body.cancel();
      throw fileError(o.out, 'write', e);
    }
  }
  const out: Writable = target?.stream ?? process.stdout;
  let lines = 0;
  try {
    for (let b; (b = await body.next()) !== null; ) {
      lines += newlines(b);
      await put(out, b);
    }
    const rest = body.tail.rest();
    lines += newlines(rest);
    await put(out, rest);
    await target?.close();
  } catch (e) {
    // What came is not the whole export: no file at --out looks complete (a file there before is left as it was).
    body.cancel();
    await target?.discard();
    // A reader that went away (`| head`): quietly, as main.ts ends every command then.
    if (e instanceof OutputError && !o.out && (e.cause as NodeJS.ErrnoException)?.code === 'EPIPE') return;
    if (e instanceof OutputError && o.out) throw fileError(o.out, 'write', e.cause);
    if (e instanceof OutputError) throw new CliError(`cannot write the export to stdout: ${(e.cause as Error).message}`, EXIT.usage);
    const { reason, before } = body.tail.reason();
    // On stdout, the lines held back go out too (without the server's).
    if (!o.out) await put(out, before).catch(() => {});
    const left = o.out ? `; nothing was written to ${o.out}` : '; what went to stdout is incomplete';
    if (reason) throw new CliError(`hooklab at ${c.server} cut the export off: ${withoutToken(reason.message, c.token)} (${reason.code})${left}`, EXIT.server, { apiCode: reason.code, transient: true });
    throw new CliError(`lost the connection to hooklab at ${c.server} during the export (${withoutToken((e as Error).message, c.token)})${left}`, EXIT.server, { transient: true });
  }
  await target?.done().catch(async (e: unknown) => {
    await target.discard();
    throw fileError(o.out!, 'write', e);
  });
  process.removeListener('SIGINT', onSignal);
  process.removeListener('SIGTERM', onSignal);
  // Captures that left the bin while it was exported are not in it: said (the server's trailer
  // cannot be read through fetch; an NDJSON line is a capture, a HAR says it in its comment).
  const missing = o.format === 'ndjson' ? Number(res.headers.get(EXPORT_COUNT_HEADER)) - lines : harMissing(body.tail.rest());
  if (missing > 0) process.stderr.write(`hooklab: warning: ${exportMissingNote(missing, false)}\n`);
}

function newlines(b: Buffer): number {
  let n = 0;
  for (let i = b.indexOf(0x0a); i !== -1; i = b.indexOf(0x0a, i + 1)) n++;
  return n;
}

/** The count in a HAR export's closing comment (see harTail), or 0. */
function harMissing(end: Buffer): number {
  const m = /\],"comment":"(\d+) captures? left the bin[^"]*"\}\}$/.exec(end.toString('utf8'));
  return m ? Number(m[1]) : 0;
}

function closeStream(stream: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.once('error', (err) => reject(new OutputError('close', { cause: err })));
    stream.end(resolve);
  });
}

/** The output failed (not the answer). */
class OutputError extends Error {}

/** Write, waiting until it is taken (so an output error is this write's). */
function put(out: Writable, b: Buffer): Promise<void> {
  if (!b.length) return Promise.resolve();
  return new Promise((resolve, reject) => out.write(b, (err) => (err ? reject(new OutputError('write', { cause: err })) : resolve())));
}

interface OutFile {
  stream: Writable;
  /** All is written: the file is closed (errors as OutputError). */
  close(): Promise<void>;
  /** Once all is written: the file takes its name. */
  done(): Promise<void>;
  /** After a failure: what was written goes. */
  discard(): Promise<void>;
}

/**
 * --out: a regular file (or a new one) is written beside it as FILE.partial and renamed once
 * whole, so a cut-off export never sits under its name looking complete. A file there already
 * keeps its mode (an export holds captured secrets: a file made 0600 stays so) and, where this
 * user may, its owner; a symlink's target is written, the link kept. Anything else there
 * (/dev/stdout, a pipe) is written as it is: it cannot be renamed onto, nor removed.
 */
async function openOut(given: string, making: (partial: string) => void): Promise<OutFile> {
  const st = await stat(given).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return null;
    throw e;
  });
  if (st?.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
  if (st && !st.isFile()) {
    const stream = (await open(given, 'w')).createWriteStream();
    return { stream, close: () => closeStream(stream), done: async () => {}, discard: async () => void stream.destroy() };
  }
  const file = st ? await realpath(given) : given;
  const partial = `${file}.partial`;
  making(partial);
  const fh = await open(partial, 'w', st ? st.mode & 0o7777 : 0o666);
  if (st) {
    await fh.chmod(st.mode & 0o7777);
    await fh.chown(st.uid, st.gid).catch(() => {}); // only root may give a file away
  }
  const stream = fh.createWriteStream();
  return {
    stream,
    close: () => closeStream(stream),
    done: () => rename(partial, file),
    discard: async () => {
      stream.destroy();
      await rm(partial, { force: true }).catch(() => {});
    },
  };
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
  // The kind of file, from its start; its name only when the start tells neither.
  let head: string;
  try {
    const b = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await fh.read(b, 0, b.length, 0);
    head = b.subarray(0, bytesRead).toString('utf8');
  } catch (e) {
    await fh.close();
    throw fileError(file, 'read', e);
  }
  const named = formatOfName(file);
  const format = formatOfContent(head) ?? named;
  if (format !== named) process.stderr.write(`hooklab: note: ${disagreement(file, format)}\n`);
  const har = format === 'har';
  const stream = fh.createReadStream({ start: 0 });
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
