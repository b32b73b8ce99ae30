// The re-serialised copies of a JSON body tried for reserialized_json keep each number as the
// body writes it: JSON.parse rounds 820982911946154508 to …500, so a Python sender's
// json.dumps copy of a body with such an id was not recognised (body_changed). Where a number
// reads otherwise in JS, the copies JSON.stringify would write are tried after them.
import { describe, expect, it } from 'vitest';
import { jsonVariantPlan, jsonVariants, phpFloat, pythonFloat } from '../../server/verify/json-variants.ts';

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
    const php: [number, string][] = [[10.5, '10.5'], [10, '10'], [1e-4, '0.0001'], [1e-5, '1.0e-5'], [1e16, '10000000000000000'], [1e17, '1.0e+17'], [1.5e25, '1.5e+25'], [-0, '-0'], [-1.5, '-1.5']];
    for (const [n, text] of php) expect(phpFloat(n), text).toBe(text);
  });

  // explain() serialises and HMACs each copy on the main thread for every invalid capture: a
  // copy that must equal one already planned is not written at all. For an ASCII body with no
  // "/" and no number Python, PHP or JS write otherwise, Python's compact and indent=2 forms are
  // JSON.stringify's, and PHP's is JSON.stringify's compact one: 8 copies, as before they came.
  it('plans no copy that cannot differ from another: 8 for an ASCII body whose numbers read back alike', () => {
    const body = JSON.stringify({ type: 'invoice.paid', data: Array.from({ length: 50 }, (_, i) => ({ id: `in_${i}`, amount: 1200 + i, rate: 0.25, tags: ['a', 'b'], ok: i % 2 === 0 })) });
    const plan = jsonVariantPlan(Buffer.from(body), JSON.parse(body));
    expect(plan.map((c) => c.how)).toEqual([
      'JSON.stringify(JSON.parse(body))',
      'JSON.stringify(JSON.parse(body), null, 2)',
      'json.dumps(json.loads(body)) (Python: ", " and ": " separators)',
      'JSON.stringify(JSON.parse(body), null, 4)',
      'JSON.stringify(JSON.parse(body), null, "\\t")',
      'the parsed body with sorted keys, compact',
      'the parsed body with sorted keys, 2-space indent',
      'json.dumps(json.loads(body), sort_keys=True) (Python)',
    ]);
    // Each planned copy is a new one (the body itself is JSON.stringify's compact copy).
    expect(new Set([body, ...plan.map((c) => c.write())]).size).toBe(plan.length);
    // Non-ASCII text brings back the Python forms that escape it (PHP's is then Python's
    // compact one); "/" brings back PHP's. Keys already sorted: no sorted copies.
    expect(jsonVariantPlan(Buffer.from('{"b":"é","a":1}'), { b: 'é', a: 1 })).toHaveLength(10);
    expect(jsonVariantPlan(Buffer.from('{"b":"/","a":1}'), { b: '/', a: 1 })).toHaveLength(9);
    expect(jsonVariantPlan(Buffer.from('{"a":1,"b":"/"}'), { a: 1, b: '/' })).toHaveLength(6);
  });

  it('with an id past 2^53 and 10.50, plans no copy twice', () => {
    for (const body of ['{"note":"x","amount":10.50,"id":820982911946154508}', '{"amount":10.50,"id":820982911946154508,"note":"x/é"}', '{"r":0.000025,"n":-0.0,"big":1e21}']) {
      const texts = jsonVariantPlan(Buffer.from(body), JSON.parse(body)).map((c) => c.write());
      expect(new Set(texts).size, body).toBe(texts.length);
    }
  });

  // 0.000025 and 1.5e-7 read back as written in JS, so the body is not "odd"; Python writes
  // them 2.5e-05 and 1.5e-07 (PHP 2.5e-5): their copies are tried all the same.
  it("tries Python's and PHP's copies where they write a float otherwise than the body", () => {
    const got = variants('{"t":0.000025,"u":1.5e-7}');
    const byText = new Map([...got].map(([how, text]) => [text, how]));
    // json.dumps(json.loads(body)), written by hand from Python's repr rules.
    expect(byText.get('{"t": 2.5e-05, "u": 1.5e-07}')).toBe('json.dumps(json.loads(body)) (Python: ", " and ": " separators), floats as parsed, integers exact');
    expect(byText.get('{"t":2.5e-5,"u":1.5e-7}')).toBe('json_encode(json_decode(body)) (PHP: "/" and non-ASCII escaped), floats as parsed, integers exact');
  });
});
