import { stat } from 'node:fs/promises';
import { readBack, ReadBackError } from '../runtime/read-back.js';
import { Composer, isAlias, isMap, isNode, isPair, isScalar, Lexer, LineCounter, Parser, visit, YAMLParseError, type CST, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors.js';
import { errnoText } from '../socket-reason.js';
import { closest } from './closest.js';

/** Configuration files are small; anything bigger is a mistake or an attack. */
export const MAX_CONFIG_BYTES = 64 * 1024;

/**
 * How deep collections may nest. A profile needs 4 levels; the yaml composer, `visit` and `toJS`
 * recurse once per level, so 2,000 `[` or `- ` in 64 KiB exhausted the stack: `RangeError` out of
 * our code, or a fatal V8 abort when the overflow hit a regexp compile inside the composer.
 */
export const MAX_NESTING = 64;

/** A profile with more problems than this lists the first ones and a count of the rest. */
const MAX_PROBLEMS = 20;

type Issue = z.core.$ZodIssue;

/** Reads and validates a YAML file; every problem becomes one line of a ConfigError. */
export async function loadYamlFile<T>(path: string, schema: z.ZodType<T>): Promise<T> {
  let buf: Buffer | undefined;
  try {
    // by type before reading (a FIFO would block for ever, /dev/zero never ends) and never past the
    // cap; a profile or config may be a symlink (to a checkout, to /etc/laplink)
    buf = (await readBack(path, { maxBytes: MAX_CONFIG_BYTES, followSymlinks: true }))?.bytes;
  } catch (err) {
    if (err instanceof ReadBackError) {
      const size = err.cause === undefined ? (await stat(path).catch(() => undefined))?.size : undefined;
      if (size !== undefined && size > MAX_CONFIG_BYTES) throw new ConfigError([`${path}:1:1: file is ${size} bytes (allowed: at most ${MAX_CONFIG_BYTES})`]);
      throw new ConfigError([`${path}: cannot read: ${err.reason}`]);
    }
    throw new ConfigError([`${path}: cannot read: ${errnoText(err)}`]);
  }
  if (buf === undefined) throw new ConfigError([`${path}: cannot read: ${errnoText({ code: 'ENOENT' })}`]);
  return parseYamlText(buf.toString('utf8'), path, schema);
}

/** Parses YAML text (no aliases, no duplicate keys) and validates it against `schema`. */
export function parseYamlText<T>(text: string, fileName: string, schema: z.ZodType<T>): T {
  const lineCounter = new LineCounter();
  const cst = tokensWithin(text, MAX_NESTING, lineCounter);
  if (typeof cst === 'number') {
    const { line, col } = positionOf(text, cst);
    throw new ConfigError([`${fileName}:${line}:${col}: nested more than ${MAX_NESTING} levels deep (allowed: at most ${MAX_NESTING})`]);
  }
  const doc = composeOne(cst, text.length);
  const where = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return `${fileName}:${line}:${col}`;
  };
  const problems: string[] = [];
  for (const e of [...doc.errors, ...doc.warnings]) {
    problems.push(`${where(e.pos[0])}: ${firstLine(e.message)}`);
  }
  // Anchors and aliases have no place in a profile and are the way to build "billion laughs" bombs.
  visit(doc, {
    Node(_key, node) {
      if (isAlias(node)) problems.push(`${where(node.range?.[0] ?? 0)}: YAML aliases (*name) are not allowed`);
      else if (node.anchor) problems.push(`${where(node.range?.[0] ?? 0)}: YAML anchors (&name) are not allowed`);
    },
  });
  if (problems.length) throw new ConfigError(capped(problems));

  const data: unknown = doc.toJS({ maxAliasCount: 0 });
  // an empty file (or only comments) is one problem, not every required field's
  if (data === null || data === undefined) throw new ConfigError([`${fileName}:1:1: the file is empty (allowed: a mapping of fields, e.g. what laplink init writes)`]);
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  for (const issue of result.error.issues) problems.push(...describeIssue(issue, doc, where, schema).split('\n'));
  throw new ConfigError(capped(byPosition(problems)));
}

/** Problems in the order of the file (line, then column), as a reader goes through it. */
function byPosition(problems: string[]): string[] {
  const at = (p: string) => /:(\d+):(\d+): /.exec(p)?.slice(1).map(Number) ?? [0, 0];
  return problems
    .map((p, i) => ({ p, i, pos: at(p) }))
    .sort((a, b) => a.pos[0]! - b.pos[0]! || a.pos[1]! - b.pos[1]! || a.i - b.i)
    .map((x) => x.p);
}

function capped(problems: string[]): string[] {
  if (problems.length <= MAX_PROBLEMS) return problems;
  // the summary line keeps the FILE:LINE:COL shape, pointing at the first problem not shown
  const where = /^(.*?:\d+:\d+): /.exec(problems[MAX_PROBLEMS]!)?.[1] ?? '';
  return [...problems.slice(0, MAX_PROBLEMS), `${where}: ${problems.length - MAX_PROBLEMS} more problems from here on (fix the ones above first)`];
}

/**
 * The CST tokens of `text`, or the offset where it nests deeper than `max`. yaml's CST parser keeps its
 * open collections on an explicit stack (no recursion), so feeding it lexeme by lexeme and watching
 * that stack measures depth safely before anything recursive (the composer) sees the text. The tokens
 * are kept and composed from, so the text is lexed and parsed once, not once to measure and again to
 * compose: that second pass was a quarter of the time of a load (measured with `node --cpu-prof` on the
 * profile-loader fuzz target).
 */
function tokensWithin(text: string, max: number, lineCounter: LineCounter): CST.Token[] | number {
  const parser = new Parser(lineCounter.addNewLine);
  const tokens: CST.Token[] = [];
  lineCounter.addNewLine(0); // what Parser.parse does before its first lexeme
  for (const lexeme of new Lexer().lex(text)) {
    for (const token of parser.next(lexeme)) tokens.push(token);
    if (parser.stack.length > max) return parser.offset;
  }
  for (const token of parser.end()) tokens.push(token);
  return tokens;
}

/** The first document of `tokens`, as yaml's parseDocument composes it (a second document is an error). */
function composeOne(tokens: CST.Token[], length: number): Document {
  const composer = new Composer({ prettyErrors: false, uniqueKeys: true, merge: false, strict: true });
  let doc: Document | undefined;
  // yaml reports each problem as an Error object, never thrown to us: only its message and offset
  // are read. Capturing a stack for each was a fifth of the time of a broken profile's load
  // (`node --cpu-prof`), so none is captured while composing. Synchronous, and restored before return.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    for (const next of composer.compose(tokens, true, length)) {
      if (!doc) doc = next;
      else {
        doc.errors.push(new YAMLParseError(next.range.slice(0, 2) as [number, number], 'MULTIPLE_DOCS', 'Source contains multiple documents; please use YAML.parseAllDocuments()'));
        break;
      }
    }
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
  // compose(…, forceDoc = true) yields at least one document, even for empty text
  return doc!;
}

/** 1-based line and column of an offset, counted without the parser (which is what was refused). */
function positionOf(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, offset);
  return { line: before.split('\n').length, col: offset - before.lastIndexOf('\n') };
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.trim();
}

/** The node for `path`, or its nearest existing ancestor (a missing field points at its parent). */
function nodeAt(doc: Document, path: PropertyKey[]): { node: Node | undefined; exact: boolean } {
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n) as unknown[], true);
    if (isNode(node)) return { node, exact: n === path.length };
  }
  return { node: undefined, exact: false };
}

/** The key node of `key` inside the map at `path`, for pointing at an unknown field itself. */
function keyNode(doc: Document, path: PropertyKey[], key: string): Node | undefined {
  const map = path.length === 0 ? doc.contents : doc.getIn(path as unknown[], true);
  if (!isMap(map)) return undefined;
  for (const pair of map.items) {
    if (isPair(pair) && isScalar(pair.key) && String(pair.key.value) === key) return pair.key;
  }
  return undefined;
}

function fieldName(path: PropertyKey[]): string {
  if (path.length === 0) return '(top level)';
  // a key with control characters (or anything unusual) is quoted, so it cannot break the line or the terminal
  const key = (p: PropertyKey) => (/^[\x21-\x7e]+$/.test(String(p)) ? String(p) : JSON.stringify(String(p)));
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${key(p)}`)).join('');
}

/** The object keys a schema accepts at `path`, to tell the user what is allowed instead. */
function knownKeys(schema: z.ZodType, path: PropertyKey[]): string[] {
  let s: any = schema;
  const unwrap = () => {
    for (let i = 0; i < 10 && s; i++) {
      const def = s._zod?.def ?? s.def;
      if (!def) return;
      if (def.type === 'object') return;
      if (def.innerType) s = def.innerType;
      else if (def.in && def.type === 'pipe') s = def.in;
      else if (def.schema) s = def.schema;
      else return;
    }
  };
  unwrap();
  for (const p of path) {
    const def = s?._zod?.def ?? s?.def;
    if (!def) return [];
    if (typeof p === 'number' && def.type === 'array') s = def.element;
    else if (def.type === 'object') s = def.shape[p as string];
    else return [];
    unwrap();
  }
  const def = s?._zod?.def ?? s?.def;
  return def?.type === 'object' ? Object.keys(def.shape) : [];
}

/**
 * One line per issue. Values are never echoed: the field could be a password, and the position
 * already shows the user what they wrote.
 */
function describeIssue(issue: Issue, doc: Document, where: (o: number) => string, schema: z.ZodType): string {
  const path = issue.path as PropertyKey[];
  if (issue.code === 'unrecognized_keys') {
    const allowed = knownKeys(schema, path);
    return issue.keys
      .map((k) => {
        const node = keyNode(doc, path, k) ?? nodeAt(doc, path).node;
        const pos = where(node?.range?.[0] ?? 0);
        const guess = closest(k, allowed);
        return `${pos}: ${fieldName([...path, k])}: unknown field${guess ? `, did you mean ${guess}?` : ''}${allowed.length ? ` (allowed: ${allowed.join(', ')})` : ''}`;
      })
      .join('\n');
  }
  const { node, exact } = nodeAt(doc, path);
  const pos = where(node?.range?.[0] ?? 0);
  // `password: 1234` is a number to YAML: say how to write it as text (without echoing the value).
  if (exact && issue.code === 'invalid_type' && issue.expected === 'string' && isScalar(node) && (typeof node.value === 'number' || typeof node.value === 'boolean')) {
    return `${pos}: ${fieldName(path)}: YAML reads this as a ${typeof node.value}; put it in quotes to make it text (allowed: a string)`;
  }
  return `${pos}: ${fieldName(path)}: ${issueText(issue, exact)}`;
}

function issueText(issue: Issue, present: boolean): string {
  switch (issue.code) {
    case 'invalid_type': {
      const names: Record<string, string> = { int: 'a whole number', number: 'a number', string: 'a string', boolean: 'true or false', object: 'a mapping of fields', array: 'a list' };
      const allowed = names[issue.expected] ?? issue.expected;
      return present ? `wrong type (allowed: ${allowed})` : `required field is missing (allowed: ${allowed})`;
    }
    case 'invalid_value':
      return `${present ? 'not an allowed value' : 'required field is missing'} (allowed: ${issue.values.map((v) => String(v)).join(', ')})`;
    case 'too_big':
      return issue.origin === 'string'
        ? `too long (allowed: at most ${issue.maximum} characters)`
        : issue.origin === 'array'
          ? `too many entries (allowed: at most ${issue.maximum})`
          : `too large (allowed: at most ${issue.maximum})`;
    case 'too_small':
      return issue.origin === 'string'
        ? `too short (allowed: at least ${issue.minimum} characters)`
        : issue.origin === 'array'
          ? `too few entries (allowed: at least ${issue.minimum})`
          : `too small (allowed: at least ${issue.minimum})`;
    default:
      return issue.message;
  }
}
