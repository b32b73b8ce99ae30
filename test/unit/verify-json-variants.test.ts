// The re-serialised copies of a JSON body tried for reserialized_json keep each number as the
// body writes it: JSON.parse rounds 820982911946154508 to …500, so a Python sender's
// json.dumps copy of a body with such an id was not recognised (body_changed). Where a number
// reads otherwise in JS, the copies JSON.stringify would write are tried after them.
import { describe, expect, it } from 'vitest';
import { jsonVariants, phpFloat, pythonFloat } from '../../server/verify/json-variants.ts';

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

  // Python's json.loads and PHP's json_decode read 10.50 as the float 10.5 but keep an id past
  // 2^53 exact: neither tree above writes that. (Expected texts made with Python 3's json.dumps.)
  it("writes Python's and PHP's defaults: floats as parsed, integers exact", () => {
    const got = variants('{"z":"é/x","amount":10.50,"id":820982911946154508}');
    const byText = new Map([...got].map(([how, text]) => [text, how]));
    expect(byText.get('{"z": "\\u00e9/x", "amount": 10.5, "id": 820982911946154508}')).toBe('json.dumps(json.loads(body)) (Python: ", " and ": " separators), floats as parsed, integers exact');
    expect(byText.get('{"amount": 10.5, "id": 820982911946154508, "z": "\\u00e9/x"}')).toBe('json.dumps(json.loads(body), sort_keys=True) (Python), floats as parsed, integers exact');
    expect(byText.get('{"z":"\\u00e9/x","amount":10.5,"id":820982911946154508}')).toBe('json.dumps(json.loads(body), separators=(",", ":")) (Python), floats as parsed, integers exact');
    expect(byText.get('{\n  "z": "\\u00e9/x",\n  "amount": 10.5,\n  "id": 820982911946154508\n}')).toBe('json.dumps(json.loads(body), indent=2) (Python), floats as parsed, integers exact');
    expect(byText.get('{"z":"\\u00e9\\/x","amount":10.5,"id":820982911946154508}')).toBe('json_encode(json_decode(body)) (PHP: "/" and non-ASCII escaped), floats as parsed, integers exact');
    // Bounded: each maker at most once per number tree.
    expect(got.size).toBeLessThanOrEqual(3 * 11);
  });

  it('writes a float back as Python (repr) and PHP (json_encode) do', () => {
    // Python: repr() of each, run in Python 3. PHP (not installed here): as php-src's
    // json_encoder.c writes a double, zend_gcvt with serialize_precision -1 and no ".0" added.
    const py: [number, string][] = [[10.5, '10.5'], [10, '10.0'], [1e-5, '1e-05'], [1e-4, '0.0001'], [1e16, '1e+16'], [1.5e16, '1.5e+16'], [1e15, '1000000000000000.0'], [-0, '-0.0'], [5e-324, '5e-324']];
    for (const [n, text] of py) expect(pythonFloat(n), text).toBe(text);
    const php: [number, string][] = [[10.5, '10.5'], [10, '10'], [1e-4, '0.0001'], [1e-5, '1.0e-5'], [1e16, '10000000000000000'], [1e17, '1.0e+17'], [1.5e25, '1.5e+25']];
    for (const [n, text] of php) expect(phpFloat(n), text).toBe(text);
  });
});
