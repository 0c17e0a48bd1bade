import Consul from 'consul';
import { type InProcessServer, startServer } from '../helpers/server.js';
import { nextEvent } from '../helpers/wait-for.js';

interface KvItem {
  Key: string;
  Value: string | null;
  ModifyIndex: number;
}

/** The real `consul` npm client (node-consul 2.x) against a real server, unchanged. */
describe('consul npm client', () => {
  let server: InProcessServer;
  let consul: Consul;

  beforeEach(async () => {
    server = await startServer();
    const url = new URL(server.url);
    consul = new Consul({ host: url.hostname, port: Number(url.port) });
  });
  afterEach(async () => {
    await server.close();
  });

  it('sets, gets, lists keys and deletes', async () => {
    expect(await consul.kv.set('app/config/db url', 'postgres://db')).toBe(true);
    expect(await consul.kv.set('app/config/port', '5432')).toBe(true);
    const item = (await consul.kv.get('app/config/db url')) as KvItem;
    expect(item.Key).toBe('app/config/db url');
    expect(item.Value).toBe('postgres://db');
    expect(await consul.kv.keys('app/')).toEqual(['app/config/db url', 'app/config/port']);
    expect(await consul.kv.del('app/config/port')).toBe(true);
    expect(await consul.kv.get('app/config/port')).toBeUndefined();
  });

  it('compare-and-set succeeds on the current index and fails on a stale one', async () => {
    await consul.kv.set('counter', '1');
    const first = (await consul.kv.get('counter')) as KvItem;
    expect(await consul.kv.set({ key: 'counter', value: '2', cas: first.ModifyIndex })).toBe(true);
    // node-consul resolves a `false` body as undefined (papi drops falsy values); real Consul gives the same.
    expect(await consul.kv.set({ key: 'counter', value: '3', cas: first.ModifyIndex })).toBeFalsy();
    expect(((await consul.kv.get('counter')) as KvItem).Value).toBe('2');
    expect(await consul.kv.set({ key: 'fresh', value: 'x', cas: 0 })).toBe(true);
    expect(await consul.kv.set({ key: 'fresh', value: 'y', cas: 0 })).toBeFalsy();
    expect(((await consul.kv.get('fresh')) as KvItem).Value).toBe('x');
  });

  it('lists a prefix recursively', async () => {
    for (const key of ['svc/a', 'svc/b/c', 'svcX']) await consul.kv.set(key, key.toUpperCase());
    const items = (await consul.kv.get({ key: 'svc/', recurse: true })) as KvItem[];
    expect(items.map((i) => [i.Key, i.Value])).toEqual([
      ['svc/a', 'SVC/A'],
      ['svc/b/c', 'SVC/B/C'],
    ]);
  });

  it('consul.watch on a key receives a change', async () => {
    await consul.kv.set('feature/flag', 'off');
    const watch = consul.watch({ method: consul.kv.get, options: { key: 'feature/flag', wait: '5s' } });
    try {
      const initial = await nextEvent<KvItem>(watch, 'change');
      expect(initial.Value).toBe('off');
      const changed = nextEvent<KvItem>(watch, 'change');
      await consul.kv.set('feature/flag', 'on');
      expect((await changed).Value).toBe('on');
    } finally {
      watch.end();
    }
  });

  it('consul.watch on a missing key receives its creation', async () => {
    const watch = consul.watch({ method: consul.kv.get, options: { key: 'not/yet', wait: '5s' } });
    const errors: unknown[] = [];
    watch.on('error', (error) => errors.push(error));
    try {
      expect(await nextEvent<KvItem | undefined>(watch, 'change')).toBeUndefined();
      const created = nextEvent<KvItem>(watch, 'change');
      await consul.kv.set('not/yet', 'here');
      expect((await created).Value).toBe('here');
      expect(errors).toEqual([]);
    } finally {
      watch.end();
    }
  });

  it('runs a session through its lifecycle: create, info, renew, list, node, destroy', async () => {
    const { ID: id } = (await consul.session.create({ name: 'web-lock', ttl: '15s', lockdelay: '1s', behavior: 'delete' }));
    const info = (await consul.session.info(id)) as unknown as Record<string, unknown>;
    expect(info).toMatchObject({ ID: id, Name: 'web-lock', Node: 'test-node', TTL: '15s', Behavior: 'delete', LockDelay: 1_000_000_000 });
    const renewed = (await consul.session.renew(id)) as unknown as Record<string, unknown>[];
    expect(renewed[0]).toMatchObject({ ID: id, TTL: '15s' });
    expect(((await consul.session.list()) as { ID: string }[]).map((s) => s.ID)).toEqual([id]);
    expect(((await consul.session.node('test-node')) as { ID: string }[]).map((s) => s.ID)).toEqual([id]);
    await consul.session.destroy(id);
    expect(await consul.session.info(id)).toBeUndefined();
    // An unknown session's renew is Consul's 404, which node-consul turns into an error with its text.
    await expect(consul.session.renew(id)).rejects.toThrow(`Session id '${id}' not found`);
  });

  it('takes and releases a lock with acquire/release; an unknown session is the error clients expect', async () => {
    const { ID: first } = (await consul.session.create({ lockdelay: '0s' }));
    const { ID: second } = (await consul.session.create());
    expect(await consul.kv.set({ key: 'service/leader', value: 'first', acquire: first })).toBe(true);
    expect(await consul.kv.set({ key: 'service/leader', value: 'second', acquire: second })).toBeFalsy();
    const held = (await consul.kv.get('service/leader')) as unknown as KvItem & { Session: string; LockIndex: number };
    expect([held.Session, held.LockIndex, held.Value]).toEqual([first, 1, 'first']);
    expect(await consul.kv.set({ key: 'service/leader', value: '', release: first })).toBe(true);
    expect(await consul.kv.set({ key: 'service/leader', value: 'second', acquire: second })).toBe(true);
    expect(((await consul.kv.get('service/leader')) as { LockIndex: number }).LockIndex).toBe(2);
    await expect(consul.kv.set({ key: 'x', value: 'v', acquire: '00000000-0000-0000-0000-000000000000' })).rejects.toThrow(
      'invalid session "00000000-0000-0000-0000-000000000000"',
    );
  });

  it('commits a transaction and surfaces a rollback as an error carrying the 409 body', async () => {
    const b64 = (text: string): string => Buffer.from(text).toString('base64');
    // node-consul sends the array as is (CLIENTS.md §3.2); its typings describe another shape.
    const committed = (await consul.transaction.create([
      { KV: { Verb: 'set', Key: 'txn/a', Value: b64('1') } },
      { KV: { Verb: 'set', Key: 'txn/b', Value: b64('2') } },
      { KV: { Verb: 'get-tree', Key: 'txn/' } },
    ] as never)) as unknown as { Results: { KV: { Key: string; Value: string | null } }[]; Errors: null };
    expect(committed.Errors).toBeNull();
    expect(committed.Results.map((r) => [r.KV.Key, r.KV.Value])).toEqual([
      ['txn/a', null],
      ['txn/b', null],
      ['txn/a', b64('1')],
      ['txn/b', b64('2')],
    ]);
    const rollback = consul.transaction.create([{ KV: { Verb: 'check-not-exists', Key: 'txn/a' } }, { KV: { Verb: 'delete', Key: 'txn/b' } }] as never);
    await expect(rollback).rejects.toMatchObject({ response: { statusCode: 409, body: { Errors: [{ OpIndex: 0, What: 'key "txn/a" exists' }] } } });
    expect(((await consul.kv.get('txn/b')) as KvItem).Value).toBe('2');
  });
});
