// Forward targets compared as they are used (shared/forward-target.ts).
import { describe, expect, it } from 'vitest';
import { hasFragment, targetKey, usableTargets } from '../../shared/forward-target.ts';

describe('targetKey', () => {
  it('drops the fragment and one trailing "/" of the path, as the join does; keeps the query', () => {
    expect(targetKey('http://127.0.0.1:9/a')).toBe(targetKey('http://127.0.0.1:9/a/'));
    expect(targetKey('http://127.0.0.1:9/a#x')).toBe(targetKey('http://127.0.0.1:9/a'));
    expect(targetKey('http://127.0.0.1:9/a?x=1')).toBe(targetKey('http://127.0.0.1:9/a/?x=1'));
    expect(targetKey('http://127.0.0.1:9/a?x=1')).not.toBe(targetKey('http://127.0.0.1:9/a'));
    // "/a//" + "/x" is "/a//x", not "/a/x".
    expect(targetKey('http://127.0.0.1:9/a//')).not.toBe(targetKey('http://127.0.0.1:9/a'));
    expect(targetKey('HTTP://Example.com:80/a')).toBe(targetKey('http://example.com/a/'));
  });

  it('answers what is no URL as it is, without throwing', () => {
    expect(targetKey('nope')).toBe('nope');
  });
});

describe('hasFragment', () => {
  it('sees an empty fragment too', () => {
    expect(hasFragment(new URL('http://h/a#').toString())).toBe(true);
    expect(hasFragment(new URL('http://h/a?b=%23').toString())).toBe(false);
  });
});

describe('usableTargets', () => {
  it('keeps the first of targets that are the same place and drops fragments, as a save would have them', () => {
    const t = (url: string) => ({ url });
    expect(usableTargets([t('http://h:9/x'), t('http://h:9/x/'), t('http://h:9/y#frag'), t('http://h:9/y')])).toEqual({ targets: [t('http://h:9/x'), t('http://h:9/y')], changed: true });
    const fine = [t('http://h:9/x'), t('http://h:9/x?v=2')];
    const u = usableTargets(fine);
    expect(u).toEqual({ targets: fine, changed: false });
    expect(u.targets[0]).toBe(fine[0]);
  });
});
