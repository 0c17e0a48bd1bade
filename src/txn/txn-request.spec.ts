import { consulFailure as failure } from '../common/consul-error-fixture.js';
import { MAX_TXN_OPS, parseTxn, type ParsedTxn } from './txn-request.js';

function parse(body: string | unknown[]): ParsedTxn {
  return parseTxn(Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)));
}


const kv = (fields: Record<string, unknown>): { KV: Record<string, unknown> } => ({ KV: fields });

describe(parseTxn.name, () => {
  it('decodes a KV op with every field', () => {
    const parsed = parse([
      kv({ Verb: 'cas', Key: 'app/db', Value: Buffer.from('hello').toString('base64'), Flags: 42, Index: 7, Session: 's1', Namespace: 'default', Partition: 'default' }),
    ]);
    expect(parsed).toEqual({
      ops: [{ verb: 'cas', key: 'app/db', value: Buffer.from('hello'), flags: 42n, index: 7, session: 's1' }],
      opIndexes: [0],
      errors: [],
    });
  });

  it('defaults: empty value, flags 0, index 0, no session', () => {
    expect(parse([kv({ Verb: 'get', Key: 'a' })]).ops).toEqual([{ verb: 'get', key: 'a', value: Buffer.alloc(0), flags: 0n, index: 0, session: '' }]);
    expect(parse([kv({ Verb: 'set', Key: 'a', Value: null, Flags: null, Index: null, Session: null })]).ops[0]).toMatchObject({ value: Buffer.alloc(0), flags: 0n, index: 0, session: '' });
  });

  it('matches field names case-insensitively', () => {
    const parsed = parse('[{"kv":{"verb":"set","KEY":"k","vAlUe":"YQ==","flags":1,"index":2,"session":"s"}}]');
    expect(parsed.ops).toEqual([{ verb: 'set', key: 'k', value: Buffer.from('a'), flags: 1n, index: 2, session: 's' }]);
  });

  it('accepts every verb, and an empty key for delete-tree only', () => {
    const verbs = ['set', 'cas', 'lock', 'unlock', 'get', 'get-or-empty', 'get-tree', 'check-index', 'check-session', 'check-not-exists', 'delete', 'delete-tree', 'delete-cas'];
    expect(parse(verbs.map((Verb) => kv({ Verb, Key: 'k' }))).ops.map((op) => op.verb)).toEqual(verbs);
    expect(parse([kv({ Verb: 'delete-tree', Key: '' })]).ops).toHaveLength(1);
  });

  it('keeps uint64 Flags exact above 2^53', () => {
    expect(parse('[{"KV":{"Verb":"set","Key":"k","Flags":18446744073709551615}}]').ops[0]?.flags).toBe(18446744073709551615n);
    expect(parse('[{"KV":{"Verb":"set","Key":"k","Flags":9007199254740993}}]').ops[0]?.flags).toBe(9007199254740993n);
  });

  it.each([
    ['Flags', '-1', 'json: cannot unmarshal number -1 into Go struct field TxnOp.KV.Flags of type uint64'],
    ['Flags', '1.5', 'json: cannot unmarshal number 1.5 into Go struct field TxnOp.KV.Flags of type uint64'],
    ['Flags', '1e3', 'json: cannot unmarshal number 1e3 into Go struct field TxnOp.KV.Flags of type uint64'],
    ['Flags', '18446744073709551616', 'json: cannot unmarshal number 18446744073709551616 into Go struct field TxnOp.KV.Flags of type uint64'],
    ['Flags', '"1"', 'json: cannot unmarshal string into Go struct field TxnOp.KV.Flags of type uint64'],
    ['Index', '-1', 'json: cannot unmarshal number -1 into Go struct field TxnOp.KV.Index of type uint64'],
    ['Index', '9007199254740992', 'Index 9007199254740992 is above 9007199254740991, the largest index Switchboard supports'],
    ['Key', '5', 'json: cannot unmarshal number into Go struct field TxnOp.KV.Key of type string'],
    ['Verb', 'true', 'json: cannot unmarshal bool into Go struct field TxnOp.KV.Verb of type string'],
    ['Value', '[1]', 'json: cannot unmarshal array into Go struct field TxnOp.KV.Value of type []uint8'],
    ['Namespace', '{}', 'json: cannot unmarshal object into Go struct field TxnOp.KV.Namespace of type string'],
  ])('%s: %s → 400', (field, json, reason) => {
    expect(failure(() => parse(`[{"KV":{"Verb":"set","Key":"k","${field}":${json}}}]`))).toEqual({ status: 400, message: `Failed to parse body: ${reason}` });
  });

  it('takes the largest safe Index', () => {
    expect(parse([kv({ Verb: 'cas', Key: 'k', Index: Number.MAX_SAFE_INTEGER })]).ops[0]?.index).toBe(Number.MAX_SAFE_INTEGER);
  });

  describe('Value base64 (Go StdEncoding)', () => {
    it.each([
      ['', ''],
      ['YQ==', 'a'],
      ['YWI=', 'ab'],
      ['YWJj', 'abc'],
      ['YW\r\nJj', 'abc'],
    ])('%j → %j', (value, text) => {
      expect(parse([kv({ Verb: 'set', Key: 'k', Value: value })]).ops[0]?.value).toEqual(Buffer.from(text));
    });

    it.each([
      ['YQ', 0],
      ['YWJ', 0],
      ['Y', 0],
      ['YQ=', 3],
      ['YQ=x', 2],
      ['Y===', 1],
      ['YQ==YQ==', 4],
      ['YW!j', 2],
      ['aGVsbG8-', 7],
      ['aGVsbG8_', 7],
    ])('%j → 400 at input byte %d', (value, offset) => {
      expect(failure(() => parse([kv({ Verb: 'set', Key: 'k', Value: value })]))).toEqual({
        status: 400,
        message: `Failed to parse body: illegal base64 data at input byte ${offset}`,
      });
    });
  });

  it('rejects unknown fields in ops and in KV ops, naming them as written', () => {
    expect(failure(() => parse([kv({ Verb: 'get', Key: 'k', Extra: 1 })]))).toEqual({ status: 400, message: 'Failed to parse body: json: unknown field "Extra"' });
    expect(failure(() => parse([{ KV: { Verb: 'get', Key: 'k' }, kvs: {} }]))).toEqual({ status: 400, message: 'Failed to parse body: json: unknown field "kvs"' });
  });

  it.each([
    ['', 'EOF'],
    ['   ', 'unexpected end of JSON input'],
    ['{}', 'json: cannot unmarshal object into Go value of type api.TxnOps'],
    ['null', 'json: cannot unmarshal null into Go value of type api.TxnOps'],
    ['[1]', 'json: cannot unmarshal number into Go value of type api.TxnOp'],
    ['[{"KV":"set"}]', 'json: cannot unmarshal string into Go struct field TxnOp.KV of type api.KVTxnOp'],
    ['[{"Node":[]}]', 'json: cannot unmarshal array into Go struct field TxnOp.Node of type api.NodeTxnOp'],
    ['[{"KV":{}},', 'unexpected end of JSON input'],
    ['[{"KV":{"Key":"a\u0001"}}]', "invalid character '\\x01' in string literal"],
    ['nope', "invalid character 'o' in literal null (expecting 'u')"],
    ['[{"KV":{"Verb":"get","Key":"k","Node":{}}}]', 'json: unknown field "Node"'],
    ['[{"KV":{"Verb":"get","Key":"k"},"Node":{}}]', 'operation 0 has more than one of KV, Node, Service, Check'],
  ])('body %j → 400', (body, reason) => {
    expect(failure(() => parse(body))).toEqual({ status: 400, message: `Failed to parse body: ${reason}` });
  });

  it('accepts an empty array', () => {
    expect(parse([])).toEqual({ ops: [], opIndexes: [], errors: [] });
  });

  it(`allows ${MAX_TXN_OPS} ops and answers 413 for more, counting every element`, () => {
    const ops = Array.from({ length: MAX_TXN_OPS }, (_, i) => kv({ Verb: 'get', Key: `k${i}` }));
    expect(parse(ops).ops).toHaveLength(MAX_TXN_OPS);
    expect(failure(() => parse([...ops, {}]))).toEqual({ status: 413, message: 'Transaction contains too many operations (129 > 128)' });
  });

  it('answers 413 for a value over 512 KiB, naming the key', () => {
    const value = Buffer.alloc(512 * 1024 + 1).toString('base64');
    expect(failure(() => parse([kv({ Verb: 'get', Key: 'k' }), kv({ Verb: 'set', Key: 'big/one', Value: value })]))).toEqual({
      status: 413,
      message: 'Value for key "big/one" is too large (524289 > 524288 bytes)',
    });
    expect(parse([kv({ Verb: 'set', Key: 'k', Value: Buffer.alloc(512 * 1024).toString('base64') })]).ops[0]?.value).toHaveLength(524_288);
  });

  it('reports every pre-check failure with its request position; skipped elements keep the numbering', () => {
    const parsed = parse([
      {},
      kv({ Verb: 'set', Key: 'a', Value: 'YQ==' }),
      { KV: null },
      kv({ Verb: 'frobnicate', Key: 'b' }),
      null,
      kv({ Verb: 'get', Key: '' }),
      kv({ Verb: 'get-tree', Key: '' }),
      { Node: { Verb: 'get', Node: { Node: 'n1' } } },
      { service: { Verb: 'get' } },
      { Check: {} },
      kv({ Verb: 'SET', Key: 'c' }),
      kv({ Verb: 'set', Key: 'a//b' }),
      kv({ Verb: 'get', Key: 'a//b' }),
      kv({ Key: 'd' }),
    ]);
    expect(parsed.errors).toEqual([
      { opIndex: 3, what: 'unknown KV verb "frobnicate"' },
      { opIndex: 5, what: 'Must provide key' },
      { opIndex: 6, what: 'Must provide key' },
      { opIndex: 7, what: 'Switchboard does not support Node operations in transactions' },
      { opIndex: 8, what: 'Switchboard does not support Service operations in transactions' },
      { opIndex: 9, what: 'Switchboard does not support Check operations in transactions' },
      { opIndex: 10, what: 'unknown KV verb "SET"' },
      { opIndex: 11, what: 'Invalid key "a//b": empty, "." and ".." path segments are not allowed' },
      { opIndex: 13, what: 'unknown KV verb ""' },
    ]);
    expect(parsed.ops.map((op) => op.key)).toEqual(['a', 'a//b']);
    expect(parsed.opIndexes).toEqual([1, 12]);
  });

  it('an empty key wins over an unknown verb, as in Consul\'s pre-check', () => {
    expect(parse([kv({ Verb: 'nope', Key: '' })]).errors).toEqual([{ opIndex: 0, what: 'Must provide key' }]);
  });
});
