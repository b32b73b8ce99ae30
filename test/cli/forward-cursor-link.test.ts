// A --cursor that is a symlink: the relay locks and writes the file it points to, the link kept,
// so a relay given the link and one given the file are one relay per cursor file (two would
// forward the same bin twice), and the link keeps naming the file others read. Real server
// over loopback, the CLI as a process.
import { lstat, readFile, readlink, symlink } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { capture, inOrder, newBin, relayKit, until } from '../helpers/relay-kit.ts';

const { file, relay, server, target } = relayKit();

describe('hooklab forward: a cursor file reached through a symlink', () => {
  it('a relay on the link is refused while one runs on its file; run alone, it writes the file through the link', async () => {
    const s = await server();
    const t = await target();
    const binId = await newBin(s.base);
    const binUrl = `${s.base}/h/${binId}`;
    const shared = file('shared.json');
    const link = file('link.json');
    await symlink('shared.json', link); // relative, as `ln -s shared.json link.json` makes it
    const a = relay([binUrl, '--to', `${t.base}/in`, '--cursor', shared]);
    await until(() => a.err().includes('forwarding'), 'relay A to start');
    await capture(binUrl, 2, 'a');
    await until(() => t.got.length >= 2, 'relay A to forward');

    const b = relay([binUrl, '--to', `${t.base}/in`, '--once', '--cursor', link]);
    expect(await b.exited, b.err()).toBe(2);
    expect(b.err()).toMatch(new RegExp(`^hooklab: the cursor file \\S*link\\.json is in use by another hooklab forward \\(pid ${a.pid}, since \\S+\\): .* delete \\S*shared\\.json\\.lock\\)\\n$`));
    a.stop();
    expect(await a.exited).toBe(0);

    const later = await capture(binUrl, 3, 'b');
    const b2 = relay([binUrl, '--to', `${t.base}/in`, '--once', '--cursor', link]);
    expect(await b2.exited, b2.err()).toBe(0);
    expect(t.paths()).toEqual([...inOrder('a', 2), ...inOrder('b', 3)]); // each once
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readlink(link)).toBe('shared.json');
    expect(JSON.parse(await readFile(shared, 'utf8'))).toMatchObject({ lastId: later[2], binId });
  });

  it('a link to a file not there yet: the file is made where it points, the link kept', async () => {
    const s = await server();
    const t = await target();
    const binId = await newBin(s.base);
    const binUrl = `${s.base}/h/${binId}`;
    const ids = await capture(binUrl, 2, 'c');
    const link = file('fresh-link.json');
    await symlink(file('fresh.json'), link);
    const r = relay([binUrl, '--to', `${t.base}/in`, '--from-start', '--once', '--cursor', link]);
    expect(await r.exited, r.err()).toBe(0);
    expect(t.paths()).toEqual(inOrder('c', 2));
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(JSON.parse(await readFile(file('fresh.json'), 'utf8'))).toMatchObject({ lastId: ids[1], binId });
  });
});
