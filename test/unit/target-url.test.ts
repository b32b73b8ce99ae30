// Where a forward or replay goes: "the target URL followed by the capture's sub-path and query
// string" (issue 13). A capture at the bin's root goes to the target exactly as written (its
// trailing slash kept); a sub-path is joined to it with one slash.
import { describe, expect, it } from 'vitest';
import { destination, SubPathRefused, targetUrl } from '../../server/forward/request.ts';
import { hasDotSegment } from '../../shared/sub-path.ts';

const at = (target: string, path: string, queryString = '') => targetUrl(target, { path, queryString }).href;

describe('targetUrl', () => {
  it('a capture at the bin root goes to the target URL as written, trailing slash and all', () => {
    expect(at('http://app/hooks/', '/')).toBe('http://app/hooks/');
    expect(at('http://app/hooks', '/')).toBe('http://app/hooks');
    expect(at('http://app/', '/')).toBe('http://app/');
    expect(at('http://app', '/')).toBe('http://app/');
    expect(at('http://app/hooks//', '/')).toBe('http://app/hooks//');
  });

  it('a sub-path is appended with one slash between', () => {
    expect(at('http://app/hooks/', '/a')).toBe('http://app/hooks/a');
    expect(at('http://app/hooks', '/a')).toBe('http://app/hooks/a');
    expect(at('http://app/', '/a/b/')).toBe('http://app/a/b/');
    expect(at('http://app', '/a')).toBe('http://app/a');
  });

  it("the query string follows the target's own", () => {
    expect(at('http://app/hooks/', '/', 'x=1')).toBe('http://app/hooks/?x=1');
    expect(at('http://app/hooks/?k=v', '/', 'x=1')).toBe('http://app/hooks/?k=v&x=1');
    expect(at('http://app/hooks/?k=v', '/a', 'x=1')).toBe('http://app/hooks/a?k=v&x=1');
    expect(at('http://app/hooks/?k=v', '/a')).toBe('http://app/hooks/a?k=v');
  });

  it('the request line a destination sends', () => {
    expect(destination('http://127.0.0.1:3000/hooks/', { path: '/', queryString: '' }).path).toBe('/hooks/');
    expect(destination('http://127.0.0.1:3000/hooks/', { path: '/a', queryString: 'x=1' }).path).toBe('/hooks/a?x=1');
  });

  it("sends the capture's sub-path and query string as they came (the URL setters re-encoded them), after the target's as parsed", () => {
    const cases: [string, string, string, string][] = [
      ['http://app/hooks', '/x\\y', '', '/hooks/x\\y'],
      ['http://app/hooks', '/frag#ment', 'q=1#x', '/hooks/frag#ment?q=1#x'],
      ['http://app/hooks/', '/a', "x='y'", "/hooks/a?x='y'"],
      ['http://app/hooks?k=v', '/a%2fb', 'x=%20&y=+', '/hooks/a%2fb?k=v&x=%20&y=+'],
      // An edited replay's path: what no request line holds is percent-encoded.
      ['http://app/my hooks', '/a b\t/\u20ac/caf\u00e9', 'q=a b', '/my%20hooks/a%20b%09/%E2%82%AC/caf%C3%A9?q=a%20b'],
    ];
    for (const [target, path, queryString, sent] of cases) {
      const d = destination(target, { path, queryString });
      expect(d.path, `${path}?${queryString}`).toBe(sent);
      expect(d.href).toBe(`http://app${sent}`);
    }
  });
});

describe('a sub-path that could climb out of the target path', () => {
  it('has a dot segment, however spelt: refused (the URL would resolve it above the target path)', () => {
    for (const p of ['/..', '/../admin', '/a/../../b', '/./a', '/a/.', '/%2e%2e/x', '/%2E%2e/x', '/.%2e/x', '/%2e/x', '/..\\x', '/a\\..\\..\\b', '/a/..%2fb', '/a/..%2F..%5cb', '/..;/admin', '/a/..;x=1/b', '/%2e%2e;/admin', '/.\t./admin', '/.\n./x', '/%252e%252e/admin', '/.;/x',
      // A probe's finds: forwarded before.
      '/..%3bx', '/%2e%2e%3b', '/%u002e%u002e', '/..%00', '/%25252e%25252e', '/%c0%ae%c0%ae', '/%ef%bc%8e%ef%bc%8e', '/%e3%80%82%e3%80%82', '/..%09', '/..%20', '/a%c0%af..%c0%afb']) {
      expect(hasDotSegment(p), p).toBe(true);
      expect(() => targetUrl('http://app/hooks', { path: p, queryString: '' }), p).toThrow(SubPathRefused);
    }
  });

  it('dots inside a segment, and dots in the query string, are fine', () => {
    for (const p of ['/', '/a.b', '/v1.2/x', '/.well-known/x', '/a..b', '/...', '/a/..b/c.', '/%2e%2e%2e', '/100%25', '/a;b=1/c', '/v1;.../x', '/a%20b', '/%3b', '/.%20.', '/%2e%2e%2e%00']) expect(hasDotSegment(p), p).toBe(false);
    expect(at('http://app/hooks', '/v1.2/.well-known/a..b', 'next=../x')).toBe('http://app/hooks/v1.2/.well-known/a..b?next=../x');
  });
});
