import { rawRequest, type RawResponse } from '../helpers/http.js';
import { type InProcessServer, startServer } from '../helpers/server.js';

const b64 = (text: string): string => Buffer.from(text).toString('base64');

interface TxnBody {
  Results: { KV: { Key: string; Value: string | null; ModifyIndex: number; LockIndex: number; Session?: string } }[] | null;
  Errors: { OpIndex: number; What: string }[] | null;
}

/** PUT /v1/txn on the wire (API.md §8, §14 vectors 19–22). */
describe('transactions', () => {
  let server: InProcessServer;
  const call = (path: string, options: Parameters<typeof rawRequest>[2] = {}): Promise<RawResponse> => rawRequest(server.url, path, options);
  const txn = (ops: unknown, query = ''): Promise<RawResponse> =>
    call(`/v1/txn${query}`, { method: 'PUT', body: typeof ops === 'string' ? ops : JSON.stringify(ops) });
  const kv = (verb: string, key: string, fields: Record<string, unknown> = {}): { KV: Record<string, unknown> } => ({ KV: { Verb: verb, Key: key, ...fields } });
  const body = (res: RawResponse): TxnBody => JSON.parse(res.text) as TxnBody;
  /** The index the next write will get: a probe write's own ModifyIndex. */
  const probeIndex = async (): Promise<number> => {
    await call('/v1/kv/probe', { method: 'PUT', body: String(Math.random()) });
    return Number((await call('/v1/kv/probe')).headers['x-consul-index']);
  };

  beforeEach(async () => {
    server = await startServer();
  });
  afterEach(async () => {
    await server.close();
  });

  it('19. set, delete, get: two results, one shared ModifyIndex, only get carries a value', async () => {
    await call('/v1/kv/t0', { method: 'PUT', body: 'old' });
    const res = await txn([kv('set', 't1', { Value: 'MQ==' }), kv('delete', 't0'), kv('get', 't1')]);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['x-consul-index']).toBeUndefined();
    const { Results, Errors } = body(res);
    expect(Errors).toBeNull();
    expect(Results).toHaveLength(2);
    const [set, get] = Results!;
    expect(set!.KV).toMatchObject({ Key: 't1', Value: null, LockIndex: 0, Flags: 0 });
    expect(get!.KV).toMatchObject({ Key: 't1', Value: 'MQ==' });
    expect(set!.KV.ModifyIndex).toBe(get!.KV.ModifyIndex);
    expect((await call('/v1/kv/t0')).status).toBe(404);
  });

  it('20. a failing check: 409, Consul’s body, nothing applied and no index consumed', async () => {
    await call('/v1/kv/t1', { method: 'PUT', body: 'x' });
    const current = await probeIndex();
    const modify = Number((await call('/v1/kv/t1')).headers['x-consul-index']);
    const res = await txn([kv('check-index', 't1', { Index: 1 }), kv('set', 't2', { Value: 'Mg==' })]);
    expect(res.status).toBe(409);
    expect(res.text).toBe(`{"Results":null,"Errors":[{"OpIndex":0,"What":"failed index check for key \\"t1\\", current modify index ${modify} != 1"}]}`);
    expect((await call('/v1/kv/t2')).status).toBe(404);
    expect(await probeIndex()).toBe(current + 1);
  });

  it('every write verb with its checks, in one txn, commits at one index', async () => {
    await call('/v1/kv/w/cas', { method: 'PUT', body: 'a' });
    await call('/v1/kv/w/gone', { method: 'PUT', body: 'a' });
    await call('/v1/kv/w/tree/1', { method: 'PUT', body: 'a' });
    await call('/v1/kv/w/tree/2', { method: 'PUT', body: 'a' });
    const session = (JSON.parse((await call('/v1/session/create', { method: 'PUT' })).text) as { ID: string }).ID;
    const casIndex = (JSON.parse((await call('/v1/kv/w/cas')).text) as { ModifyIndex: number }[])[0]!.ModifyIndex;
    const goneIndex = (JSON.parse((await call('/v1/kv/w/gone')).text) as { ModifyIndex: number }[])[0]!.ModifyIndex;
    const res = await txn([
      kv('set', 'w/set', { Value: b64('s'), Flags: 42 }),
      kv('cas', 'w/cas', { Value: b64('c'), Index: casIndex }),
      kv('cas', 'w/new', { Value: b64('n'), Index: 0 }),
      kv('lock', 'w/lock', { Value: b64('l'), Session: session }),
      kv('check-session', 'w/lock', { Session: session }),
      kv('unlock', 'w/lock', { Value: b64('u'), Session: session }),
      kv('check-index', 'w/cas', { Index: casIndex + 0 }),
      kv('delete-cas', 'w/gone', { Index: goneIndex }),
      kv('check-not-exists', 'w/gone'),
      kv('delete-tree', 'w/tree/'),
      kv('delete', 'w/never-existed'),
      kv('get-tree', 'w/'),
    ]);
    // check-index sees the txn's own cas: the key's index is now the txn's, so that op fails.
    expect(res.status).toBe(409);
    expect(body(res).Errors).toEqual([{ OpIndex: 6, What: expect.stringMatching(/^failed index check for key "w\/cas", current modify index \d+ != \d+$/) }]);
    expect((await call('/v1/kv/w/set')).status).toBe(404);

    const ok = await txn([
      kv('set', 'w/set', { Value: b64('s'), Flags: 42 }),
      kv('cas', 'w/cas', { Value: b64('c'), Index: casIndex }),
      kv('lock', 'w/lock', { Value: b64('l'), Session: session }),
      kv('check-session', 'w/lock', { Session: session }),
      kv('delete-cas', 'w/gone', { Index: goneIndex }),
      kv('check-not-exists', 'w/gone'),
      kv('delete-tree', 'w/tree/'),
      kv('get-tree', 'w/'),
    ]);
    expect(ok.status).toBe(200);
    const results = body(ok).Results!;
    const index = results[0]!.KV.ModifyIndex;
    expect(results.map((r) => [r.KV.Key, r.KV.Value])).toEqual([
      ['w/set', null],
      ['w/cas', null],
      ['w/lock', null],
      ['w/lock', null],
      ['w/cas', b64('c')],
      ['w/lock', b64('l')],
      ['w/set', b64('s')],
    ]);
    for (const result of results) expect(result.KV.ModifyIndex).toBe(index);
    expect(results[2]!.KV).toMatchObject({ Session: session, LockIndex: 1 });
    const history = JSON.parse((await call(`/v1/history/w/?recurse&index=${index - 1}`)).text) as { Events: { Key: string; Type: string; ModifyIndex: number }[] };
    expect(history.Events.map((event) => [event.Type, event.Key, event.ModifyIndex])).toEqual([
      ['put', 'w/set', index],
      ['put', 'w/cas', index],
      ['put', 'w/lock', index],
      ['delete', 'w/gone', index],
      ['delete', 'w/tree/1', index],
      ['delete', 'w/tree/2', index],
    ]);
  });

  it('a txn wakes a blocked prefix query once, with all of its changes', async () => {
    await call('/v1/kv/batch/a', { method: 'PUT', body: '0' });
    const before = Number((await call('/v1/kv/batch/?recurse')).headers['x-consul-index']);
    const blocked = call(`/v1/kv/batch/?recurse&index=${before}&wait=10s`);
    await txn([kv('set', 'batch/a', { Value: b64('1') }), kv('set', 'batch/b', { Value: b64('2') }), kv('set', 'batch/c', { Value: b64('3') })]);
    const woken = JSON.parse((await blocked).text) as { Key: string; Value: string; ModifyIndex: number }[];
    expect(woken.map((entry) => [entry.Key, entry.Value])).toEqual([
      ['batch/a', b64('1')],
      ['batch/b', b64('2')],
      ['batch/c', b64('3')],
    ]);
    expect(new Set(woken.map((entry) => entry.ModifyIndex)).size).toBe(1);
  });

  it('a read-only txn is answered locally: KnownLeader and LastContact, no index; ?consistent works', async () => {
    await call('/v1/kv/r', { method: 'PUT', body: 'x' });
    const before = await probeIndex();
    for (const query of ['', '?consistent', '?stale']) {
      const res = await txn([kv('get', 'r'), kv('get-tree', 'r')], query);
      expect(res.status).toBe(200);
      expect(res.headers['x-consul-index']).toBeUndefined();
      expect(res.headers['x-consul-knownleader']).toBe('true');
      expect(res.headers['x-consul-lastcontact']).toBe('0');
      expect(body(res).Results!.map((r) => r.KV.Value)).toEqual([b64('x'), b64('x')]);
    }
    const missing = await txn([kv('get', 'nope')]);
    expect(missing.status).toBe(409);
    expect(body(missing).Errors).toEqual([{ OpIndex: 0, What: 'key "nope" doesn\'t exist' }]);
    expect(await probeIndex()).toBe(before + 1);
  });

  it('21. 128 ops are fine, 129 are 413; an unknown field is 400', async () => {
    const ops = (n: number): unknown[] => Array.from({ length: n }, (_, i) => kv('set', `many/${i}`, { Value: b64(String(i)) }));
    expect((await txn(ops(128))).status).toBe(200);
    const tooMany = await txn(ops(129));
    expect([tooMany.status, tooMany.text]).toEqual([413, 'Transaction contains too many operations (129 > 128)']);
    const unknownField = await txn([kv('get', 'a', { Bogus: 1 })]);
    expect(unknownField.status).toBe(400);
    expect(unknownField.text).toMatch(/^Failed to parse body: /);
  });

  it.each([
    ['malformed JSON', 400, '[{"KV":'],
    ['not an array', 400, '{"KV":{}}'],
    ['invalid base64', 400, JSON.stringify([{ KV: { Verb: 'set', Key: 'a', Value: '***' } }])],
    ['a negative index', 400, JSON.stringify([{ KV: { Verb: 'cas', Key: 'a', Index: -1 } }])],
    ['an oversize body', 413, JSON.stringify([{ KV: { Verb: 'set', Key: 'a', Value: b64('x'.repeat(600 * 1024)) } }])],
  ])('%s → %d with a one-line reason, and the server stays healthy', async (_label, status, raw) => {
    const res = await txn(raw);
    expect(res.status).toBe(status);
    expect(res.text).not.toContain('\n');
    expect(res.text.length).toBeGreaterThan(0);
    expect((await call('/v1/status/leader')).status).toBe(200);
  });

  it('an unknown verb and an empty key are 409 errors naming their op', async () => {
    const res = await txn([kv('get', 'a'), kv('frobnicate', 'a'), kv('set', '')]);
    expect(res.status).toBe(409);
    expect(body(res).Errors).toEqual([
      { OpIndex: 1, What: 'unknown KV verb "frobnicate"' },
      { OpIndex: 2, What: 'Must provide key' },
    ]);
  });

  it('lock in a txn with an unknown session is a 409, not a 500', async () => {
    const res = await txn([kv('lock', 'a', { Session: '00000000-0000-0000-0000-000000000000' })]);
    expect(res.status).toBe(409);
    expect(body(res).Errors).toEqual([{ OpIndex: 0, What: 'invalid session "00000000-0000-0000-0000-000000000000"' }]);
  });

  it('22. POST /v1/txn is 405 with Allow: OPTIONS,PUT', async () => {
    const res = await call('/v1/txn', { method: 'POST', body: '[]' });
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('OPTIONS,PUT');
  });
});
