// Where and why a YAML text does not parse, quoting none of it: the yaml package's messages
// quote the source around the error, and the text read here (a config file) holds secrets.
// Its error codes are said in words; a few codes cover several mistakes, told apart by the
// parser's own fixed wording (never the source's).
import type { YAMLParseError } from 'yaml';

/** The yaml package's error codes (its ErrorCode type), in words. */
const CODE_WORDS: Record<string, string> = {
  ALIAS_PROPS: 'an alias (*name) with an anchor or tag of its own',
  BAD_ALIAS: 'a bad alias (*name)',
  BAD_COLLECTION_TYPE: 'a tag (!tag) that does not fit its list or map',
  BAD_DIRECTIVE: 'a bad directive (a line starting with %)',
  BAD_DQ_ESCAPE: 'a bad escape (\\) in a double-quoted string',
  BAD_INDENT: 'bad indentation (entries of one list or map must start at the same column)',
  BAD_PROP_ORDER: 'an anchor (&name) or tag (!tag) in the wrong place',
  BAD_SCALAR_START: 'a value that starts with a reserved character (@, `, %, …): quote it',
  BLOCK_AS_IMPLICIT_KEY: 'a list or map where a key should be (a missing ":" or bad indentation?)',
  BLOCK_IN_FLOW: 'an indented list or map inside [ ] or { }',
  DUPLICATE_KEY: 'a key given twice',
  IMPOSSIBLE: 'a structure the parser cannot read',
  KEY_OVER_1024_CHARS: 'a key longer than 1024 characters',
  MISSING_CHAR: 'a character is missing (a ":", a "," or a space?)',
  MULTILINE_IMPLICIT_KEY: 'a key spread over several lines (a missing ":"?)',
  MULTIPLE_ANCHORS: 'two anchors (&name) on one value',
  MULTIPLE_DOCS: 'more than one document (a second "---"); a config file is one',
  MULTIPLE_TAGS: 'two tags (!tag) on one value',
  NON_STRING_KEY: 'a key that is not a string',
  RESOURCE_EXHAUSTION: 'too many aliases (*name): the document expands too much',
  TAB_AS_INDENT: 'a tab used for indentation (YAML takes spaces only)',
  TAG_RESOLVE_FAILED: 'a tag (!tag) that does not fit its value',
  UNEXPECTED_TOKEN: 'something unexpected here (a stray character, or bad indentation?)',
};

/** Finer words for a code, chosen by the start of the parser's message (its own wording, not the source). */
const BY_MESSAGE: [code: string, start: RegExp, words: string][] = [
  ['MISSING_CHAR', /^Missing closing .?quote/, 'a quoted string is not closed'],
  ['MISSING_CHAR', /^Sequence item without - indicator/, 'a list item without its "-"'],
  ['MISSING_CHAR', /^Implicit map keys need to be followed by map values/, 'a key without a ":" after it'],
  ['BAD_INDENT', /^Flow (sequence|map) in block collection must be sufficiently indented and end with/, 'a [ or { that is not closed (or is not indented enough)'],
];

/** "line 3, column 1: a quoted string is not closed": the position and the kind of error, none of the text. */
export function yamlProblem(e: unknown, ParseError: typeof YAMLParseError): string {
  if (e instanceof ParseError) {
    const at = e.linePos?.[0];
    const finer = BY_MESSAGE.find(([code, start]) => code === e.code && start.test(e.message));
    const words = finer?.[2] ?? CODE_WORDS[e.code] ?? `an error the parser calls ${e.code}`;
    return `${at ? `line ${at.line}, column ${at.col}: ` : ''}${words}`;
  }
  // Thrown as ReferenceErrors, without a position: the message names the alias.
  if (e instanceof ReferenceError) {
    if (/resource exhaustion/i.test(e.message)) return CODE_WORDS.RESOURCE_EXHAUSTION;
    return 'an alias (*name) that no earlier anchor (&name) defines';
  }
  return e instanceof Error ? e.name : 'unreadable';
}
