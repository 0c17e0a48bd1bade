/**
 * A JSON reader for request bodies that must be decoded the way Go's encoding/json decodes them
 * (API.md §1.6). JSON.parse cannot do it: it rounds integers above 2^53 (a txn's uint64 `Flags`,
 * §8.1) and Node 20 has no reviver access to the source text. Here numbers keep their source
 * text, objects keep their members in order, and syntax errors carry Go's one-line messages.
 */

/** A number as written, so a uint64 converts exactly (BigInt) and a float like Go's float64. */
export class JsonNumber {
  constructor(readonly text: string) {}
}

/** An object's members in source order; duplicates are kept (Go lets the last one win). */
export class JsonObject {
  constructor(readonly members: readonly (readonly [string, JsonValue])[]) {}
}

export type JsonValue = null | boolean | string | JsonNumber | JsonObject | readonly JsonValue[];

/** The syntax error text, worded like Go's `json.SyntaxError`. */
export class JsonSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JsonSyntaxError';
  }
}

/** Nesting bound: deep enough for any real body, shallow enough for the JS stack (Go's is 10000). */
const MAX_DEPTH = 1000;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
// JSON forbids raw control characters in strings; the run stops at them so they can be reported.
// eslint-disable-next-line no-control-regex
const PLAIN_STRING_RUN = /[^"\\\u0000-\u001f]*/y;
const ESCAPES: Readonly<Record<string, string>> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
const HEX_DIGIT = /[0-9a-fA-F]/;

/** Go prints the offending character `%q`-style: 'x', '\'', '\x01'. */
function quoteChar(char: string): string {
  if (char === "'") return "'\\''";
  const code = char.charCodeAt(0);
  return code < 0x20 || code === 0x7f ? `'\\x${code.toString(16).padStart(2, '0')}'` : `'${char}'`;
}

class Reader {
  private at = 0;

  constructor(private readonly text: string) {}

  document(): JsonValue {
    this.skipBlanks();
    const value = this.value(0);
    this.skipBlanks();
    if (this.at < this.text.length) this.fail('after top-level value');
    return value;
  }

  private value(depth: number): JsonValue {
    if (depth > MAX_DEPTH) throw new JsonSyntaxError('exceeded max depth');
    const char = this.text[this.at];
    switch (char) {
      case '{':
        return this.object(depth + 1);
      case '[':
        return this.array(depth + 1);
      case '"':
        return this.string();
      case 't':
        return this.literal('true', true);
      case 'f':
        return this.literal('false', false);
      case 'n':
        return this.literal('null', null);
      default:
        if (char === '-' || (char !== undefined && char >= '0' && char <= '9')) return this.number();
        return this.fail('looking for beginning of value');
    }
  }

  private object(depth: number): JsonObject {
    const members: [string, JsonValue][] = [];
    this.at++;
    this.skipBlanks();
    if (this.text[this.at] === '}') {
      this.at++;
      return new JsonObject(members);
    }
    for (;;) {
      if (this.text[this.at] !== '"') this.fail('looking for beginning of object key string');
      const name = this.string();
      this.skipBlanks();
      if (this.text[this.at] !== ':') this.fail('after object key');
      this.at++;
      this.skipBlanks();
      members.push([name, this.value(depth)]);
      this.skipBlanks();
      const next = this.text[this.at];
      if (next === '}') {
        this.at++;
        return new JsonObject(members);
      }
      if (next !== ',') this.fail('after object key:value pair');
      this.at++;
      this.skipBlanks();
    }
  }

  private array(depth: number): JsonValue[] {
    const items: JsonValue[] = [];
    this.at++;
    this.skipBlanks();
    if (this.text[this.at] === ']') {
      this.at++;
      return items;
    }
    for (;;) {
      items.push(this.value(depth));
      this.skipBlanks();
      const next = this.text[this.at];
      if (next === ']') {
        this.at++;
        return items;
      }
      if (next !== ',') this.fail('after array element');
      this.at++;
      this.skipBlanks();
    }
  }

  private string(): string {
    this.at++;
    let result = '';
    for (;;) {
      PLAIN_STRING_RUN.lastIndex = this.at;
      PLAIN_STRING_RUN.exec(this.text);
      result += this.text.slice(this.at, PLAIN_STRING_RUN.lastIndex);
      this.at = PLAIN_STRING_RUN.lastIndex;
      const char = this.text[this.at];
      if (char === '"') {
        this.at++;
        return result;
      }
      if (char !== '\\') this.fail('in string literal');
      const escape = this.text[this.at + 1];
      if (escape === 'u') {
        this.at += 2;
        for (let digit = 0; digit < 4; digit++) {
          if (!HEX_DIGIT.test(this.text[this.at + digit] ?? '')) {
            this.at += digit;
            this.fail('in \\u hexadecimal character escape');
          }
        }
        result += String.fromCharCode(parseInt(this.text.slice(this.at, this.at + 4), 16));
        this.at += 4;
      } else {
        const decoded = escape === undefined ? undefined : ESCAPES[escape];
        this.at++;
        if (decoded === undefined) this.fail('in string escape code');
        result += decoded;
        this.at++;
      }
    }
  }

  private number(): JsonNumber {
    NUMBER.lastIndex = this.at;
    const match = NUMBER.exec(this.text);
    if (!match) {
      this.at++;
      return this.fail('in numeric literal');
    }
    this.at = NUMBER.lastIndex;
    return new JsonNumber(match[0]);
  }

  private literal<T extends boolean | null>(word: string, value: T): T {
    for (let i = 1; i < word.length; i++) {
      if (this.text[this.at + i] !== word[i]) {
        this.at += i;
        this.fail(`in literal ${word} (expecting ${quoteChar(word[i] as string)})`);
      }
    }
    this.at += word.length;
    return value;
  }

  private skipBlanks(): void {
    for (;;) {
      const char = this.text[this.at];
      if (char !== ' ' && char !== '\t' && char !== '\n' && char !== '\r') return;
      this.at++;
    }
  }

  private fail(context: string): never {
    const char = this.text[this.at];
    if (char === undefined) throw new JsonSyntaxError('unexpected end of JSON input');
    throw new JsonSyntaxError(`invalid character ${quoteChar(char)} ${context}`);
  }
}

/** Parses a whole document; throws JsonSyntaxError with Go's wording on malformed input. */
export function parseExactJson(text: string): JsonValue {
  return new Reader(text).document();
}

/** Array.isArray narrows a JsonValue to any[]; this keeps the element type. */
export function isJsonArray(value: JsonValue): value is readonly JsonValue[] {
  return Array.isArray(value);
}

/** The JSON kind Go names in `cannot unmarshal <kind> into …` errors. */
export function jsonKind(value: JsonValue): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'string') return 'string';
  if (value instanceof JsonNumber) return 'number';
  if (value instanceof JsonObject) return 'object';
  return 'array';
}

/**
 * Matches an object's members to field names the way Go's encoding/json does (API.md §1.6):
 * case-insensitively, the last duplicate winning. `unknown` is the first member that matches no
 * field, spelled as the client wrote it.
 */
export function bindFields<Name extends string>(
  object: JsonObject,
  names: readonly Name[],
): { fields: Partial<Record<Name, JsonValue>>; unknown: string | undefined } {
  const byFoldedName = new Map(names.map((name) => [name.toLowerCase(), name]));
  const fields: Partial<Record<Name, JsonValue>> = {};
  let unknown: string | undefined;
  for (const [memberName, value] of object.members) {
    const name = byFoldedName.get(memberName.toLowerCase());
    if (name !== undefined) fields[name] = value;
    else unknown ??= memberName;
  }
  return { fields, unknown };
}
