import { JsonNumber, JsonObject, JsonSyntaxError, bindFields, jsonKind, parseExactJson } from './exact-json.js';

function syntaxError(text: string): string {
  try {
    parseExactJson(text);
  } catch (error) {
    if (error instanceof JsonSyntaxError) return error.message;
    throw error;
  }
  throw new Error('expected a JsonSyntaxError');
}

describe(parseExactJson.name, () => {
  it('keeps numbers as written, so uint64 values stay exact', () => {
    expect(parseExactJson('[18446744073709551615, -0.5e-3, 0]')).toEqual([
      new JsonNumber('18446744073709551615'),
      new JsonNumber('-0.5e-3'),
      new JsonNumber('0'),
    ]);
  });

  it('keeps object members in order, duplicates included', () => {
    expect(parseExactJson(' {"a":1, "A":true,"a":null,"b":{"c":[]}} ')).toEqual(
      new JsonObject([
        ['a', new JsonNumber('1')],
        ['A', true],
        ['a', null],
        ['b', new JsonObject([['c', []]])],
      ]),
    );
  });

  it('decodes string escapes', () => {
    expect(parseExactJson('"a\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00 é"')).toBe('a"\\/\b\f\n\r\té😀 é');
  });

  it.each([
    ['', 'unexpected end of JSON input'],
    ['[1,', 'unexpected end of JSON input'],
    ['nope', "invalid character 'o' in literal null (expecting 'u')"],
    ['tru', 'unexpected end of JSON input'],
    ['x', "invalid character 'x' looking for beginning of value"],
    ["'a'", "invalid character '\\'' looking for beginning of value"],
    ['{a:1}', "invalid character 'a' looking for beginning of object key string"],
    ['{"a" 1}', "invalid character '1' after object key"],
    ['{"a":1 "b":2}', "invalid character '\"' after object key:value pair"],
    ['[1 2]', "invalid character '2' after array element"],
    ['[1,]', "invalid character ']' looking for beginning of value"],
    ['"a\u0001"', "invalid character '\\x01' in string literal"],
    ['"\\x"', "invalid character 'x' in string escape code"],
    ['"\\u12g4"', "invalid character 'g' in \\u hexadecimal character escape"],
    ['-', 'unexpected end of JSON input'],
    ['-a', "invalid character 'a' in numeric literal"],
    ['01', "invalid character '1' after top-level value"],
    ['{} {}', "invalid character '{' after top-level value"],
    ['['.repeat(1002), 'exceeded max depth'],
  ])('%j → %s', (text, message) => {
    expect(syntaxError(text)).toBe(message);
  });
});

describe(jsonKind.name, () => {
  it.each([
    [null, 'null'],
    [true, 'bool'],
    ['s', 'string'],
    [new JsonNumber('1'), 'number'],
    [new JsonObject([]), 'object'],
    [[], 'array'],
  ] as const)('%j is %s', (value, kind) => {
    expect(jsonKind(value)).toBe(kind);
  });
});

describe(bindFields.name, () => {
  it('matches case-insensitively, lets the last duplicate win and names the first unknown member', () => {
    const object = parseExactJson('{"ttl":"1s","Name":"a","TTL":"2s","Extra":1,"more":2}') as JsonObject;
    expect(bindFields(object, ['TTL', 'Name', 'Node'])).toEqual({ fields: { TTL: '2s', Name: 'a' }, unknown: 'Extra' });
  });
});
