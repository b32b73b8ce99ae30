// Re-serialisations of a JSON body that senders (or frameworks in front of their signing code)
// commonly sign instead of the bytes they send: other spacing, sorted keys, escaped non-ASCII.
// Only tried to explain a failed check, never on the valid path.
import { nestsWithin } from '../lib/json-depth.ts';
import { NumberText, parseKeepingNumbers } from './json-number-text.ts';

/** Bodies larger than this are not parsed to look for a cause (each try costs HMACs). */
export const MAX_JSON_TRY_BYTES = 256 * 1024;

export interface JsonVariant {
  how: string;
  bytes: Buffer;
}

/** Cheap first test: parsing is only worth it when the body opens like JSON. */
export function looksLikeJson(body: Buffer): boolean {
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
    return c === 0x7b || c === 0x5b; // { or [
  }
  return false;
}

/** The body parsed, when it is JSON of at most `max` bytes nesting no deeper than MAX_JSON_DEPTH (see nestsWithin). */
export function parseJsonBody(body: Buffer, max: number): { ok: true; value: unknown } | { ok: false } {
  if (body.length > max || !looksLikeJson(body) || !nestsWithin(body)) return { ok: false };
  try {
    return { ok: true, value: JSON.parse(body.toString('utf8')) };
  } catch {
    return { ok: false };
  }
}

/** A float as a Python or PHP parser reads it: written back by the form's own float writer. */
class ParsedFloat {
  constructor(readonly value: number) {}
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object' && !(v instanceof NumberText) && !(v instanceof ParsedFloat)) {
    // No prototype: a "__proto__" key stays a key.
    const out = Object.create(null) as Record<string, unknown>;
    for (const k of Object.keys(v).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

const NON_ASCII = /[\u0080-\uffff]/;
const asciiOnly = (s: string): string => s.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** How a serialiser writes: JSON.stringify's indent (none: compact), its separators, its strings. */
interface Form {
  indent: string;
  comma: string;
  colon: string;
  str: (s: string) => string;
  /** How it writes a float it parsed (Python, PHP: they keep integers exact, see mixedNumbers). */
  float?: (n: number) => string;
}

/** A double's shortest round-trip digits ("105") and decimal exponent (1 for 10.5). */
function digitsOf(n: number): { digits: string; exp: number } {
  const [m, e] = Math.abs(n).toExponential().split('e');
  return { digits: m.replace('.', ''), exp: Number(e) };
}

/** Python's repr(float): shortest digits, fixed for exponents -4..15 (always with a ".0"), else "1e-05", "1.5e+16". */
export function pythonFloat(n: number): string {
  if (!Number.isFinite(n)) return Number.isNaN(n) ? 'NaN' : n > 0 ? 'Infinity' : '-Infinity';
  const sign = n < 0 || Object.is(n, -0) ? '-' : '';
  const { digits, exp } = digitsOf(n);
  if (exp >= -4 && exp < 16) {
    if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
    return `${sign}${digits.slice(0, exp + 1).padEnd(exp + 1, '0')}.${digits.slice(exp + 1) || '0'}`;
  }
  const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  return `${sign}${mantissa}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}

/** PHP's json_encode of a float (serialize_precision -1): shortest digits, "10" for 10.0, "1.0e-5" past 4 zeros or 17 digits. */
export function phpFloat(n: number): string {
  if (!Number.isFinite(n)) return String(n); // json_encode refuses INF: no copy to match
  // zend_gcvt writes the sign bit: json_encode(-0.0) is "-0".
  const sign = n < 0 || Object.is(n, -0) ? '-' : '';
  const { digits, exp } = digitsOf(n);
  if (exp >= -4 && exp < 17) {
    if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
    const frac = digits.slice(exp + 1);
    return `${sign}${digits.slice(0, exp + 1).padEnd(exp + 1, '0')}${frac ? `.${frac}` : ''}`;
  }
  const mantissa = `${digits[0]}.${digits.slice(1) || '0'}`;
  return `${sign}${mantissa}e${exp < 0 ? '-' : '+'}${Math.abs(exp)}`;
}

const jsString = (s: string) => JSON.stringify(s);
const js = (indent: string): Form => ({ indent, comma: ',', colon: indent ? ': ' : ':', str: jsString });
const pyString = (s: string) => asciiOnly(JSON.stringify(s));
/** Python's json.dumps defaults: ", " and ": " separators, non-ASCII escaped. */
const PYTHON: Form = { indent: '', comma: ', ', colon: ': ', str: pyString, float: pythonFloat };
/** json.dumps(…, separators=(",", ":")). */
const PYTHON_COMPACT: Form = { ...PYTHON, comma: ',', colon: ':' };
/** json.dumps(…, indent=2): "," at line ends (no trailing space), ": " after keys. */
const PYTHON_INDENT: Form = { ...PYTHON, indent: '  ', comma: ',' };
/** PHP's json_encode defaults: compact, "/" and non-ASCII escaped. */
const PHP: Form = { indent: '', comma: ',', colon: ':', str: (s) => asciiOnly(JSON.stringify(s)).replace(/\//g, '\\/'), float: phpFloat };

/**
 * `v` written as JSON.stringify(v, null, form.indent) writes it, with the form's separators and
 * strings, and a NumberText as its text (JSON.stringify has no way to write a number's text).
 */
function write(v: unknown, f: Form, pad = ''): string {
  if (v instanceof NumberText) return v.text;
  if (v instanceof ParsedFloat) return f.float!(v.value);
  if (typeof v === 'string') return f.str(v);
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  const inner = pad + f.indent;
  const [open, sep, close] = f.indent ? [`\n${inner}`, `${f.comma}\n${inner}`, `\n${pad}`] : ['', f.comma, ''];
  if (Array.isArray(v)) return v.length ? `[${open}${v.map((x) => write(x, f, inner)).join(sep)}${close}]` : '[]';
  const keys = Object.keys(v);
  if (keys.length === 0) return '{}';
  return `{${open}${keys.map((k) => `${f.str(k)}${f.colon}${write((v as Record<string, unknown>)[k], f, inner)}`).join(sep)}${close}}`;
}

/** Which string writer a form uses: "py" is "js" but for non-ASCII, "php" is "py" but for "/". */
type Strings = 'js' | 'py' | 'php';

const MAKERS: [string, Form, boolean, Strings][] = [
  ['JSON.stringify(JSON.parse(body))', js(''), false, 'js'],
  ['JSON.stringify(JSON.parse(body), null, 2)', js('  '), false, 'js'],
  ['json.dumps(json.loads(body)) (Python: ", " and ": " separators)', PYTHON, false, 'py'],
  ['JSON.stringify(JSON.parse(body), null, 4)', js('    '), false, 'js'],
  ['JSON.stringify(JSON.parse(body), null, "\\t")', js('\t'), false, 'js'],
  ['json_encode(json_decode(body)) (PHP: "/" and non-ASCII escaped)', PHP, false, 'php'],
  ['the parsed body with sorted keys, compact', js(''), true, 'js'],
  ['the parsed body with sorted keys, 2-space indent', js('  '), true, 'js'],
  ['json.dumps(json.loads(body), sort_keys=True) (Python)', PYTHON, true, 'py'],
  ['json.dumps(json.loads(body), separators=(",", ":")) (Python)', PYTHON_COMPACT, false, 'py'],
  ['json.dumps(json.loads(body), indent=2) (Python)', PYTHON_INDENT, false, 'py'],
];

const isIntegerText = (t: string) => /^-?\d+$/.test(t);

/**
 * A number (plain, or a NumberText the body writes otherwise than JS would) as Python's
 * json.loads and PHP's json_decode read it: integers exact (an id past 2^53 stays, as written
 * but for a "-0"), floats as doubles (10.50 is 10.5), written back by the serialiser's own
 * float writer.
 */
function mixedNumber(v: number | NumberText): number | NumberText | ParsedFloat {
  if (v instanceof NumberText) return isIntegerText(v.text) ? new NumberText(BigInt(v.text).toString()) : new ParsedFloat(Number(v.text));
  // A number JS gives back as written: a float when written with "." or an exponent.
  return /[.e]/i.test(String(v)) ? new ParsedFloat(v) : v;
}

function mixedNumbers(v: unknown): unknown {
  if (typeof v === 'number' || v instanceof NumberText) return mixedNumber(v);
  if (Array.isArray(v)) return v.map(mixedNumbers);
  if (v && typeof v === 'object') {
    const out = Object.create(null) as Record<string, unknown>;
    for (const k of Object.keys(v)) out[k] = mixedNumbers((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

/**
 * What decides, before writing any copy, which copies can differ. Numbers: "K" as the body
 * writes them, "J" as JSON.stringify writes JSON.parse's reading, "py"/"php" as Python's and
 * PHP's defaults write them back (mixedNumber).
 */
interface Facts {
  /** A string or key with non-ASCII (Python and PHP escape it). */
  nonAscii: boolean;
  /** A string or key with "/" (PHP escapes it). */
  slash: boolean;
  /** An object whose keys are not in sortKeys' order (else a sorted copy is the unsorted one). */
  unsorted: boolean;
  /** Some number where J is not K (parseKeepingNumbers' odd). */
  odd: boolean;
  pyK: boolean;
  pyJ: boolean;
  phpK: boolean;
  phpJ: boolean;
  pyPhp: boolean;
}

function noteString(s: string, f: Facts): void {
  if (!f.nonAscii && NON_ASCII.test(s)) f.nonAscii = true;
  if (!f.slash && s.includes('/')) f.slash = true;
}

/** One walk of the kept tree: no copy written. Recursive: its depth was bounded (nestsWithin). */
function gatherFacts(v: unknown, f: Facts): void {
  if (typeof v === 'string') return noteString(v, f);
  if (typeof v === 'number' || v instanceof NumberText) {
    const k = v instanceof NumberText ? v.text : JSON.stringify(v);
    const j = v instanceof NumberText ? JSON.stringify(Number(v.text)) : k;
    const m = mixedNumber(v);
    const py = m instanceof ParsedFloat ? pythonFloat(m.value) : m instanceof NumberText ? m.text : k;
    const php = m instanceof ParsedFloat ? phpFloat(m.value) : py;
    f.pyK ||= py !== k;
    f.pyJ ||= py !== j;
    f.phpK ||= php !== k;
    f.phpJ ||= php !== j;
    f.pyPhp ||= py !== php;
    return;
  }
  if (Array.isArray(v)) {
    for (const x of v) gatherFacts(x, f);
  } else if (v && typeof v === 'object') {
    const keys = Object.keys(v);
    // sort()'s order: by UTF-16 code units, as "<" compares strings.
    for (let i = 1; i < keys.length && !f.unsorted; i++) f.unsorted = keys[i - 1] > keys[i];
    for (const k of keys) {
      noteString(k, f);
      gatherFacts((v as Record<string, unknown>)[k], f);
    }
  }
}

type Numbers = 'K' | 'J' | 'py' | 'php';

/** The first writing of the numbers that writes them all alike (so the copies are equal). */
function sameNumbersAs(n: Numbers, f: Facts): Numbers {
  if (n === 'J') return f.odd ? 'J' : 'K';
  if (n === 'py') return !f.pyK ? 'K' : !f.pyJ ? 'J' : 'py';
  if (n === 'php') return !f.phpK ? 'K' : !f.phpJ ? 'J' : !f.pyPhp ? sameNumbersAs('py', f) : 'php';
  return n;
}

function sameStringsAs(s: Strings, f: Facts): Strings {
  if (s === 'php' && !f.slash) s = 'py';
  if (s === 'py' && !f.nonAscii) s = 'js';
  return s;
}

/** A copy's bytes follow from its layout, its strings and its numbers: equal keys, equal copies. */
function copyKey(form: Form, sort: boolean, strings: Strings, numbers: Numbers, f: Facts): string {
  return JSON.stringify([form.indent, form.comma, form.colon, sort && f.unsorted, sameStringsAs(strings, f), sameNumbersAs(numbers, f)]);
}

/** A copy to write: its name and, run only when it is tried, its serialisation. */
export interface PlannedCopy {
  how: string;
  write: () => string;
}

/**
 * The copies of `body` (JSON; `parsed` is its JSON.parse) to serialise, most common first; a
 * pure plan, so what is tried can be counted without writing it. Numbers are written as the
 * body writes them: a sender's serialisers write its numbers alike, and one past 2^53 (an id)
 * would round if read as a JS number. When some number reads otherwise in JS (past 2^53,
 * 10.50), the copies with numbers as JSON.parse reads them follow (a JS sender re-serialising
 * writes those). Then, where Python or PHP write some number otherwise (10.50 as 10.5, 0.000025
 * as 2.5e-05), their copies with floats as parsed and integers exact.
 *
 * explain() writes and HMACs each copy on the main thread for every invalid capture, so a copy
 * that must equal one planned before it (Python's compact form of an ASCII body is
 * JSON.stringify's) is left out before it is written: at most 11 + 11 + 5 copies, each a new one.
 */
export function jsonVariantPlan(body: Buffer, parsed: unknown): PlannedCopy[] {
  const kept = parseKeepingNumbers(body.toString('utf8'));
  const facts: Facts = { nonAscii: false, slash: false, unsorted: false, odd: kept.odd, pyK: false, pyJ: false, phpK: false, phpJ: false, pyPhp: false };
  gatherFacts(kept.value, facts);
  let mixed: unknown;
  const trees: [() => unknown, string, Numbers | 'own'][] = [[() => kept.value, kept.odd ? ', numbers as written' : '', 'K']];
  if (kept.odd) trees.push([() => parsed, ', numbers as JSON.parse reads them', 'J']);
  trees.push([() => (mixed ??= mixedNumbers(kept.value)), ', floats as parsed, integers exact', 'own']);
  const planned = new Set<string>();
  const plan: PlannedCopy[] = [];
  for (const [tree, note, numbers] of trees) {
    let sorted: unknown;
    for (const [how, form, sort, strings] of MAKERS) {
      // Floats written back by their own parser's writer: only for the forms that have one.
      if (numbers === 'own' && !form.float) continue;
      const key = copyKey(form, sort, strings, numbers === 'own' ? (form.float === pythonFloat ? 'py' : 'php') : numbers, facts);
      if (planned.has(key)) continue;
      planned.add(key);
      plan.push({ how: how + note, write: () => write(sort ? (sorted ??= sortKeys(tree())) : tree(), form) });
    }
  }
  return plan;
}

/** The planned copies that differ from `body` and from each other, each one HMAC per secret. */
export function* jsonVariants(body: Buffer, parsed: unknown): Generator<JsonVariant> {
  const seen = new Set<string>([body.toString('utf8')]);
  for (const copy of jsonVariantPlan(body, parsed)) {
    const out = copy.write();
    if (seen.has(out)) continue;
    seen.add(out);
    yield { how: copy.how, bytes: Buffer.from(out, 'utf8') };
  }
}
