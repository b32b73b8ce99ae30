// The re-serialised copies of a JSON body tried for reserialized_json keep each number as the
// body writes it: JSON.parse rounds 820982911946154508 to …500, so a Python sender's
// json.dumps copy of a body with such an id was not recognised (body_changed). Where a number
// reads otherwise in JS, the copies JSON.stringify would write are tried after them.
import { describe, expect, it } from 'vitest';
import { jsonVariants } from '../../server/verify/json-variants.ts';

const variants = (body: string) => new Map([...jsonVariants(Buffer.from(body), JSON.parse(body))].map((v) => [v.how, v.bytes.toString('utf8')]));

describe('jsonVariants', () => {
  it('writes what JSON.stringify writes, for every indent, when every number reads back as written', () => {
    const bodies = [
      '{"type":"invoice.paid","data":{"id":"in_1","amount":1200,"tags":["a","b"],"note":"café ✓","url":"https://x/y"}}',
      '{ "b": [], "a": {}, "2": [1, [2, {"x": null}]], "1": true, "z": false, "n": -1.5e-7, "e": "\\u0000\\"\\\\\\ud800" }',
      '{"__proto__":{"polluted":1},"k":1,"k":2}',
      '[1, "two", [], {}, [{}]]',
    ];
    for (const body of bodies) {
      const value = JSON.parse(body);
      const got = variants(body);
      for (const [how, indent] of [['JSON.stringify(JSON.parse(body))', undefined], ['JSON.stringify(JSON.parse(body), null, 2)', 2], ['JSON.stringify(JSON.parse(body), null, 4)', 4], ['JSON.stringify(JSON.parse(body), null, "\\t")', '\t']] as const) {
        const expected = JSON.stringify(value, null, indent);
        if (expected !== body) expect(got.get(how), `${body} ${how}`).toBe(expected);
      }
      for (const text of got.values()) expect(JSON.parse(text)).toEqual(value);
      expect([...got.keys()].some((how) => /numbers as/.test(how))).toBe(false);
    }
  });

  it('keeps an id past 2^53 (and 10.50) as written, then tries them as JSON.parse reads them', () => {
    const got = variants('{"id":820982911946154508,"total":10.50,"email":"a"}');
    expect(got.get('json.dumps(json.loads(body)) (Python: ", " and ": " separators), numbers as written')).toBe('{"id": 820982911946154508, "total": 10.50, "email": "a"}');
    expect(got.get('JSON.stringify(JSON.parse(body), null, 2), numbers as written')).toBe('{\n  "id": 820982911946154508,\n  "total": 10.50,\n  "email": "a"\n}');
    expect(got.get('json.dumps(json.loads(body), sort_keys=True) (Python), numbers as written')).toBe('{"email": "a", "id": 820982911946154508, "total": 10.50}');
    expect(got.get('JSON.stringify(JSON.parse(body)), numbers as JSON.parse reads them')).toBe('{"id":820982911946154500,"total":10.5,"email":"a"}');
    const hows = [...got.keys()];
    expect(hows.findIndex((h) => h.endsWith('as written'))).toBeLessThan(hows.findIndex((h) => h.endsWith('reads them')));
  });
});
