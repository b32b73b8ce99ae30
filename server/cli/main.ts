// The hooklab command line: `hooklab <command> --help` for each. One-line errors; exit codes
// 0 done, 1 what was waited for did not happen, 2 the user's to fix (bad arguments, what the
// server refused to take, a local file), 3 cannot talk to the server (see EXIT in client.ts).
import { Command, CommanderError, Option } from 'commander';
import { RECEIVER_PREFIX } from '../../shared/api.ts';
import { VERSION } from '../version.ts';
import { CliError, EXIT, connOf, fileError, isFileSystemError } from './client.ts';
import { binDelete, binList, binNew } from './commands/bins.ts';
import { exportBin, importBin } from './commands/exchange.ts';
import { fire } from './commands/fire.ts';
import { forward } from './commands/forward.ts';
import { tail } from './commands/tail.ts';
import { wait } from './commands/wait.ts';
import { withoutUserInfo } from './server-url.ts';
import { noteStdoutClosed } from './stdout-closed.ts';
import { withoutToken } from './token.ts';

const program = new Command('hooklab')
  .description('Self-hosted webhook inspector and retry test harness')
  .version(VERSION)
  .addOption(new Option('--server <url>', 'the hooklab server').env('HOOKLAB_SERVER').default('http://localhost:8080'))
  .addOption(new Option('--token <token>', 'access token (AUTH_TOKEN of the server)').env('HOOKLAB_TOKEN'))
  // Every command takes --server and --token: its --help lists them (commander copies this to
  // the commands made after it).
  .configureHelp({ showGlobalOptions: true })
  .exitOverride()
  .configureOutput({ outputError: (str, write) => write(`hooklab: ${str.replace(/^error: /, '')}`) });

/** Where --server's value came from, as the user would name it in a message. */
const serverFrom = (cmd: Command) => {
  const source = cmd.getOptionValueSourceWithGlobals('server');
  return source === 'env' ? 'HOOKLAB_SERVER' : source === 'cli' ? '--server' : undefined;
};
/** Where --token's value came from (said, never the token, when it cannot be used). */
const tokenFrom = (cmd: Command) => (cmd.getOptionValueSourceWithGlobals('token') === 'env' ? 'HOOKLAB_TOKEN' : '--token');
const conn = (cmd: Command) => connOf({ ...cmd.optsWithGlobals(), serverFrom: serverFrom(cmd), tokenFrom: tokenFrom(cmd) });
/**
 * The connection for a command given a bin: a receiver URL names its server (with the path the
 * server is under, PUBLIC_URL https://example.com/hooklab), unless --server or HOOKLAB_SERVER
 * (not empty) says which. Before, only `forward` took it: `wait <receiver URL>` went to
 * localhost:8080.
 */
const connFor = (cmd: Command, bin: string) => {
  const opts: { server?: string; token?: string; serverFrom?: string; tokenFrom?: string } = { ...cmd.optsWithGlobals(), serverFrom: serverFrom(cmd), tokenFrom: tokenFrom(cmd) };
  if (/^https?:\/\//i.test(bin) && URL.canParse(bin) && (cmd.getOptionValueSourceWithGlobals('server') === 'default' || !opts.server)) {
    const u = new URL(bin);
    // Its origin would drop them without a word (and the server takes a token, not these).
    if (u.username || u.password) throw new CliError(`the receiver URL must not hold a user name or password (${withoutUserInfo(bin)}): pass the access token with --token or HOOKLAB_TOKEN`, EXIT.usage);
    const at = u.pathname.indexOf(RECEIVER_PREFIX);
    opts.server = u.origin + (at > 0 ? u.pathname.slice(0, at) : '');
    opts.serverFrom = 'the receiver URL';
  }
  return connOf(opts);
};
const collect = (v: string, prev: string[] = []) => [...prev, v];

program
  .command('serve')
  .description('run the server (as `npm start` does, without building the UI)')
  .option('--config <file>', 'config file of bins and webhooks to create (HOOKLAB_CONFIG)')
  .action(async (o: { config?: string }) => {
    if (o.config) process.env.HOOKLAB_CONFIG = o.config;
    await import('../main.ts');
  });

const bin = program.command('bin').description('bins');
bin
  .command('new')
  .description('mint a bin and print its receiver URL')
  .option('--slug <id>', 'ask for this id (4-64 of A-Z a-z 0-9 _ -); fails if taken')
  .option('--name <name>', 'its name in the UI')
  .option('--json', 'print the whole bin as JSON')
  .action((o, cmd: Command) => binNew(conn(cmd), o));
bin
  .command('list')
  .description("list the server's bins, newest first: id, requests, last request, name, receiver URL")
  .option('--json', 'NDJSON: one bin per line')
  .action((o, cmd: Command) => binList(conn(cmd), o));
bin
  .command('delete')
  .description('delete bins, with their captures and settings')
  .argument('<bins...>', 'bin ids, or receiver URLs (their server is taken from them)')
  .option('--missing-ok', 'a bin that is not there is not an error (a clean-up step run again)')
  .action((bins: string[], o, cmd: Command) => binDelete((b) => connFor(cmd, b), bins, o));

program
  .command('tail')
  .description('follow a bin live: one line per request')
  .argument('<bin>', 'bin id, or receiver URL (its server is taken from it)')
  .option('--json', 'NDJSON: one request (list row) per line')
  .action((b: string, o, cmd: Command) => tail(connFor(cmd, b), b, o));

program
  .command('wait')
  .description('wait for a request matching the filters; print it as JSON (exit 0) or time out (exit 1)')
  .argument('<bin>', 'bin id, or receiver URL (its server is taken from it)')
  .option('--method <method>', 'exact method')
  .option('--path <prefix>', 'sub-path prefix below the bin')
  .option('--header <name[:value]>', 'header present (or equal); repeatable', collect)
  .option('--status <status>', 'status the sender was answered: 500, or a class such as 5xx')
  .option('--q <text>', 'text in the body')
  .option('--key <key>', "the sender's idempotency key (exact)")
  .option('--after <id>', 'only requests newer than this id (default: any stored one)')
  .option('--new', 'only requests that arrive after the command starts (not one the bin holds already)')
  .option('--timeout <duration>', 'how long to wait, with its unit: 30s, 500ms, 2m (at most 10m)', '30s')
  .action((b: string, o, cmd: Command) => wait(connFor(cmd, b), b, o));

program
  .command('export')
  .description("write a bin's captures as NDJSON (byte-exact) or HAR")
  .argument('<bin>', 'bin id, or receiver URL (its server is taken from it)')
  .option('--format <format>', 'ndjson or har', 'ndjson')
  .option('--out <file>', 'write here instead of stdout')
  .action((b: string, o, cmd: Command) => exportBin(connFor(cmd, b), b, o));

program
  .command('import')
  .description('add captures to a bin from an NDJSON export or a HAR file, told apart by their content (by the name, .har/.json for HAR, when the content does not say)')
  .argument('<bin>', 'bin id, or receiver URL (its server is taken from it)')
  .argument('<file>', 'the file')
  .action((b: string, f: string, _o, cmd: Command) => importBin(connFor(cmd, b), b, f));

program
  .command('fire')
  .description('send one Portable event to any URL with the reference dispatcher (no server needed); retry on its schedule with a fast clock; exit 0 when delivered, 1 when it gave up')
  .requiredOption('--url <url>', 'where to send it (yours: no address rules apply, redirects are not followed)')
  .option('--event <event>', 'sync_start, sync_end or test (test: one attempt, not retried)', 'sync_end')
  .option('--status <status>', 'for sync_end: SUCCESSFUL or FAILED', 'SUCCESSFUL')
  .option('--secret <whsec>', 'sign it (Standard Webhooks) with this secret')
  .option('--schedule <preset>', 'retry schedule: portable, svix, standard-webhooks, stripe or linear (default: portable, or RETRY_* from the environment)')
  .option('--scale <n>', 'virtual clock speed: 86400 runs 24 h in about a second', '86400')
  .option('--timeout <duration>', 'per-attempt timeout (default DISPATCH_TIMEOUT_MS, 10s)')
  .option('--json', 'print each attempt as a JSON line')
  .action((o) => fire(o));

program
  .command('forward')
  .description(
    'relay a bin to local targets, byte-exact; resumes where it stopped (cursor file, one relay at a time each), and waits out a server restart or a network outage. ' +
      'A target that answers, with any status (a 4xx or 5xx too), has had the capture: the cursor moves on and it is not sent again (--once still exits 0); only one that does not answer (refused, timed out) is retried. ' +
      'A --to on the same hooklab server\'s receiver URLs (/h/…) is refused: it would loop',
  )
  .argument('<bin>', 'the bin\'s receiver URL (its server is taken from it) or id')
  .option('--to <url>', 'where to send each capture (its sub-path and query are appended); repeatable', collect)
  .option('--cursor <file>', 'where the last forwarded id is kept, with the bin it is of (default .hooklab-forward-<bin>.json); one relay per file (FILE.lock beside it while it runs)')
  .option('--from-start', 'on a first run (no cursor file yet), also forward what the bin holds already; with a cursor file it resumes from that file instead (delete the file to start over)')
  .option('--once', 'for CI: forward what the bin held when the relay caught up (up to its newest capture then, with any queued by that moment), then exit; later ones are left for the next run')
  .option('--timeout <duration>', 'per target request, with its unit: 10s, 500ms', '10s')
  .option('--give-up <duration>', 'end (exit 3) when the hooklab server stays unreachable this long (default: 60s with --once, else never)')
  .option('--prefetch <n>', 'captures fetched from the server in one call, ahead of forwarding them (1 to 1000, but only as many as fit in a 4 KB URL, about 200, go in one call; their bodies at most 8 MiB in all, the first whatever its size): one round trip per batch, not per capture; 1 holds the least in memory', '32')
  .option('--json', 'NDJSON on stdout: per capture its id, arrival, method, path, query and each target\'s status (or error) and time; messages stay on stderr')
  .action((b: string, o, cmd: Command) => forward(connFor(cmd, b), b, o));

// A reader that went away (`hooklab tail BIN | head -3`): stop quietly, as Unix tools do. A
// command that stops on a signal (forward: its cursor written, nothing half done) stops so.
let readerGone = false;
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
  // Once: later writes fail too, and the stop they asked for is under way.
  if (readerGone) return;
  readerGone = true;
  noteStdoutClosed();
  if (process.listenerCount('SIGTERM') > 0) process.emit('SIGTERM');
  else process.exit(0);
});

// Every line said on the way out. hooklab's own errors (CliError) took the token out of the
// words they quote (a library's, the server's) where they were made; masked here as a whole,
// their own wording would be too ("--token token" printed "--[token]"). Any other error is a
// library's words alone, which may quote the token (in a header value, say).
const say = (message: string) => process.stderr.write(`hooklab: ${message}\n`);
const sayForeign = (message: string) => say(withoutToken(message, program.opts().token ?? process.env.HOOKLAB_TOKEN));

try {
  await program.parseAsync();
} catch (e) {
  if (e instanceof CommanderError) {
    // --help and --version end here too, with code 0.
    process.exit(e.exitCode === 0 ? 0 : EXIT.usage);
  }
  if (e instanceof CliError) {
    say(e.message);
    process.exit(e.code);
  }
  // A local file (a cursor file, say) that could not be written or read: the user's to fix.
  if (isFileSystemError(e)) {
    const err = fileError(e.path, e.syscall ?? 'use', e);
    say(err.message);
    process.exit(err.code);
  }
  sayForeign(e instanceof Error ? e.message : String(e));
  process.exit(EXIT.server);
}
