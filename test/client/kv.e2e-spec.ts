import { type InProcessServer, startServer } from '../helpers/server.js';
import { CompactedError, Switchboard, SwitchboardError, TxnFailedError } from '../../src/client/index.js';

/** The KV, txn, session and history calls against a real server, values and uint64 flags exact. */
describe('Switchboard client: KV, txn, sessions, history', () => {
  let server: InProcessServer;
  let client: Switchboard;

  beforeAll(async () => {
    server = await startServer();
    client = new Switchboard({ address: server.url });
  });
  afterAll(async () => {
    await client.close();
    await server.close();
  });

  it('puts and gets bytes and flags above 2^53 exactly; a missing key is undefined', async () => {
    const flags = 0x2ddccbc058a50c18n;
    expect(await client.kv.put('kv/a', Buffer.from([0, 1, 255]), { flags })).toBe(true);
    const entry = await client.kv.get('kv/a');
    expect(entry).toMatchObject({ key: 'kv/a', flags, lockIndex: 0 });
    expect(entry?.value).toEqual(Buffer.from([0, 1, 255]));
    expect(entry?.createIndex).toBe(entry?.modifyIndex);
    expect(await client.kv.get('kv/missing')).toBeUndefined();
  });

  it('cas, delete, list and keys follow Consul', async () => {
    expect(await client.kv.cas('kv/b', 'one', 0)).toBe(true);
    expect(await client.kv.cas('kv/b', 'again', 0)).toBe(false);
    const b = (await client.kv.get('kv/b'))!;
    expect(await client.kv.cas('kv/b', 'two', b.modifyIndex)).toBe(true);
    await client.kv.put('kv/dir/c', 'c');
    expect((await client.kv.list('kv/')).map((e) => e.key)).toEqual(['kv/a', 'kv/b', 'kv/dir/c']);
    expect(await client.kv.keys('kv/', { separator: '/' })).toEqual(['kv/a', 'kv/b', 'kv/dir/']);
    expect(await client.kv.list('nothing/')).toEqual([]);
    expect(await client.kv.delete('kv/b', { cas: b.modifyIndex })).toBe(false);
    expect(await client.kv.delete('kv/dir/', { recurse: true })).toBe(true);
    expect(await client.kv.keys('kv/')).toEqual(['kv/a', 'kv/b']);
  });

  it('a blocking get returns once the key changes past the index', async () => {
    const { index } = await client.kv.getWithIndex('kv/a');
    const blocked = client.kv.getWithIndex('kv/a', { index, waitMs: 10_000 });
    await client.kv.put('kv/a', 'changed');
    const after = await blocked;
    expect(after.index).toBeGreaterThan(index);
    expect(after.value?.value.toString()).toBe('changed');
  });

  it('txn commits at one index, or throws TxnFailedError with the failing operations', async () => {
    const results = await client.kv.txn([
      { verb: 'set', key: 'txn/x', value: 'x', flags: 2n ** 63n },
      { verb: 'set', key: 'txn/y', value: 'y' },
      { verb: 'get', key: 'txn/x' },
    ]);
    expect(results.map((r) => r.key)).toEqual(['txn/x', 'txn/y', 'txn/x']);
    expect(results[2]!.flags).toBe(2n ** 63n);
    expect(results[0]!.modifyIndex).toBe(results[1]!.modifyIndex);
    const failed = client.kv.txn([
      { verb: 'set', key: 'txn/z', value: 'z' },
      { verb: 'check-index', key: 'txn/x', index: 1 },
    ]);
    await expect(failed).rejects.toBeInstanceOf(TxnFailedError);
    await expect(failed).rejects.toMatchObject({ code: 'TXN_FAILED', status: 409, errors: [{ opIndex: 1 }] });
    expect(await client.kv.get('txn/z')).toBeUndefined();
  });

  it('errors come back with stable codes', async () => {
    await expect(client.kv.put('a//b', 'x')).rejects.toMatchObject({ code: 'BAD_REQUEST', status: 400 });
    await expect(client.kv.put('big', Buffer.alloc(600 * 1024))).rejects.toMatchObject({ code: 'TOO_LARGE' });
    await expect(client.kv.put('k', 'v', { acquire: '00000000-0000-0000-0000-000000000000' })).rejects.toMatchObject({ code: 'INVALID_SESSION' });
    await expect(client.versions('never/written')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const unreachable = new Switchboard({ address: 'http://127.0.0.1:1' });
    await expect(unreachable.kv.get('x')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await unreachable.close();
  });

  it('sessions: create, info, list, renew, destroy; a Session handle destroys itself with await using', async () => {
    let id: string;
    {
      await using session = await client.sessions.create({ name: 'svc', ttl: '10s', lockDelay: '1s', node: 'n1' });
      id = session.id;
      expect(await client.sessions.info(id)).toMatchObject({ id, name: 'svc', ttl: '10s', lockDelayMs: 1000, behavior: 'release' });
      expect((await client.sessions.node('n1')).map((s) => s.id)).toEqual([id]);
      expect((await client.sessions.list()).map((s) => s.id)).toContain(id);
      await session.renew();
    }
    expect(await client.sessions.info(id)).toBeUndefined();
    expect(await client.sessions.renew(id)).toBeUndefined();
  });

  it('history, versions and rollback', async () => {
    await client.kv.put('hist/k', 'v1');
    const first = (await client.kv.get('hist/k'))!.modifyIndex;
    await client.kv.put('hist/k', 'v2');
    await client.kv.delete('hist/k');
    const page = await client.history('hist/', { recurse: true, index: first - 1 });
    expect(page.events.map((e) => [e.type, e.value.toString(), e.prevValue.toString()])).toEqual([
      ['put', 'v1', ''],
      ['put', 'v2', 'v1'],
      ['delete', '', 'v2'],
    ]);
    expect(page.events.every((e) => e.index === e.modifyIndex)).toBe(true);
    const versions = await client.versions('hist/k');
    expect(versions.map((v) => v.value.toString())).toEqual(['v2', 'v1']);
    expect(await client.rollback('hist/k', first)).toBe(true);
    expect((await client.kv.get('hist/k'))?.value.toString()).toBe('v1');
  });

  it('a history request older than the retained window is a CompactedError', async () => {
    const small = await startServer({ HISTORY_SIZE: '2' });
    const smallClient = new Switchboard({ address: small.url });
    try {
      for (const n of [1, 2, 3, 4]) await smallClient.kv.put(`c/${n}`, 'x');
      const error: unknown = await smallClient.history('c/', { recurse: true, index: 1 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CompactedError);
      expect((error as CompactedError).oldestIndex).toBeGreaterThan(1);
      expect(error).toBeInstanceOf(SwitchboardError);
    } finally {
      await smallClient.close();
      await small.close();
    }
  });
});
