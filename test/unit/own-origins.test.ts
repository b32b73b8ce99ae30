// hooklab's own origins, as the dispatcher tells its own receiver URLs from others.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ownOriginCheck } from '../../server/forward/own-origins.ts';

const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

describe('own origin check', () => {
  it('knows PUBLIC_URL before listening, and the listening address under its names after', async () => {
    const server = http.createServer();
    servers.push(server);
    let publicUrl = 'https://hooks.example.com';
    const isOwn = ownOriginCheck(() => publicUrl, server);
    expect(isOwn('https://hooks.example.com/b/abc')).toBe(true);
    expect(isOwn('http://127.0.0.1:1/b/abc')).toBe(false);

    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    for (const host of ['127.0.0.1', 'localhost', '[::1]']) expect(isOwn(`http://${host}:${port}/b/abc`)).toBe(true);
    expect(isOwn(`http://127.0.0.1:${port + 1}/b/abc`)).toBe(false);
    expect(isOwn(`https://127.0.0.1:${port}/b/abc`)).toBe(false);
    expect(isOwn('not a url')).toBe(false);

    // A changed PUBLIC_URL is seen at once.
    publicUrl = 'https://other.example.com';
    expect(isOwn('https://hooks.example.com/b/abc')).toBe(false);
    expect(isOwn('https://other.example.com/b/abc')).toBe(true);
  });
});
