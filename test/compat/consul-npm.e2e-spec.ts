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
});
