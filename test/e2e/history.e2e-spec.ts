import { rawRequest, type RawResponse } from '../helpers/http.js';
import { type InProcessServer, startServer } from '../helpers/server.js';
import type { HistoryEvent } from '../helpers/watch-validator.js';

interface HistoryPage {
  Index: number;
  Events: HistoryEvent[];
}

const b64 = (text: string): string => Buffer.from(text).toString('base64');

/** Change history, versions and rollback: what Switchboard adds to Consul's KV. */
describe('history, versions and rollback', () => {
  let server: InProcessServer;
  const call = (path: string, options: Parameters<typeof rawRequest>[2] = {}): Promise<RawResponse> =>
    rawRequest(server.url, path, options);
  const put = async (path: string, body = ''): Promise<string> => (await call(path, { method: 'PUT', body })).text;
  const modifyIndex = async (key: string): Promise<number> =>
    (JSON.parse((await call(`/v1/kv/${key}`)).text) as { ModifyIndex: number }[])[0]!.ModifyIndex;
  const history = async (path: string): Promise<HistoryPage> => {
    const res = await call(path);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    return JSON.parse(res.text) as HistoryPage;
  };

  afterEach(async () => {
    await server.close();
  });

  describe('with the default history size', () => {
    beforeEach(async () => {
      server = await startServer();
    });

    it('lists every change to a key after an index, in order, with previous values', async () => {
      await put('/v1/kv/cfg/db', 'one');
      const first = await modifyIndex('cfg/db');
      await put('/v1/kv/cfg/other', 'x');
      await put('/v1/kv/cfg/db?flags=5', 'two');
      const second = await modifyIndex('cfg/db');
      await call('/v1/kv/cfg/db', { method: 'DELETE' });
      const page = await history(`/v1/history/cfg/db?index=${first - 1}`);
      expect(page.Events.map((e) => [e.Type, e.Value, e.PrevValue])).toEqual([
        ['put', b64('one'), null],
        ['put', b64('two'), b64('one')],
        ['delete', null, b64('two')],
      ]);
      expect(page.Events[1]).toMatchObject({ Key: 'cfg/db', Flags: 5, CreateIndex: first, ModifyIndex: second, PrevModifyIndex: first, Session: null });
      expect(page.Events[2]!.ModifyIndex).toBeGreaterThan(second);
      expect(page.Index).toBe(page.Events[2]!.ModifyIndex);
      // Resuming from the returned index gives nothing new, and nothing is missed in between.
      expect((await history(`/v1/history/cfg/db?index=${page.Index}`)).Events).toEqual([]);
      expect((await history(`/v1/history/cfg/db?index=${first}`)).Events).toHaveLength(2);
    });

    it('covers a whole prefix with recurse, a delete-tree included', async () => {
      const start = (await history('/v1/history/app/?recurse&index=0')).Index;
      await put('/v1/kv/app/a', '1');
      await put('/v1/kv/apple', 'outside');
      await put('/v1/kv/app/b/c', '2');
      await call('/v1/kv/app/?recurse', { method: 'DELETE' });
      const page = await history(`/v1/history/app/?recurse&index=${start}`);
      expect(page.Events.map((e) => `${e.Type} ${e.Key}`)).toEqual(['put app/a', 'put app/b/c', 'delete app/a', 'delete app/b/c']);
      expect(page.Events[2]!.ModifyIndex).toBe(page.Events[3]!.ModifyIndex);
    });

    it('with wait, blocks until at least one event exists', async () => {
      await put('/v1/kv/live', 'a');
      const after = await modifyIndex('live');
      let settled = false;
      const pending = history(`/v1/history/live?index=${after}&wait=30s`).then((page) => {
        settled = true;
        return page;
      });
      await put('/v1/kv/elsewhere', 'x');
      await call('/v1/kv/elsewhere');
      expect(settled).toBe(false);
      await put('/v1/kv/live', 'b');
      const page = await pending;
      expect(page.Events.map((e) => e.Value)).toEqual([b64('b')]);
    });

    it('with wait and nothing happening, returns the empty page at the deadline', async () => {
      await put('/v1/kv/quiet', 'a');
      const after = await modifyIndex('quiet');
      const page = await history(`/v1/history/quiet?index=${after}&wait=100ms`);
      expect(page.Events).toEqual([]);
      expect(page.Index).toBeGreaterThanOrEqual(after);
    });

    it('retains versions newest first and rolls back to one as a new version', async () => {
      await put('/v1/kv/feature', 'v1');
      const v1 = await modifyIndex('feature');
      await put('/v1/kv/feature?flags=9', 'v2');
      const v2 = await modifyIndex('feature');
      const versions = JSON.parse((await call('/v1/versions/feature')).text) as { ModifyIndex: number; Value: string; Flags: number }[];
      expect(versions).toEqual([
        { ModifyIndex: v2, Value: b64('v2'), Flags: 9 },
        { ModifyIndex: v1, Value: b64('v1'), Flags: 0 },
      ]);
      expect(await put(`/v1/kv/feature?rollback=${v1}&cas=${v1}`)).toBe('false');
      expect(await put(`/v1/kv/feature?rollback=${v1}&cas=${v2}`)).toBe('true');
      const restored = JSON.parse((await call('/v1/kv/feature')).text) as { Value: string; Flags: number; ModifyIndex: number }[];
      expect(restored[0]).toMatchObject({ Value: b64('v1'), Flags: 0 });
      expect(restored[0]!.ModifyIndex).toBeGreaterThan(v2);
      expect(JSON.parse((await call('/v1/versions/feature')).text)).toHaveLength(3);
    });

    it('rolls a deleted key back to life', async () => {
      await put('/v1/kv/gone', 'keep me');
      const v1 = await modifyIndex('gone');
      await call('/v1/kv/gone', { method: 'DELETE' });
      expect(await put(`/v1/kv/gone?rollback=${v1}`)).toBe('true');
      expect((await call('/v1/kv/gone?raw')).text).toBe('keep me');
    });

    it('answers 404 with a reason for a key without versions, 400 without a key', async () => {
      const missing = await call('/v1/versions/never');
      expect(missing.status).toBe(404);
      expect(missing.text).toBe('no versions of key "never" are retained');
      expect((await call('/v1/history/?index=0')).status).toBe(400);
      expect((await call('/v1/history/x?index=abc')).status).toBe(400);
    });
  });

  it('answers 410 with the oldest retained index below the retained history', async () => {
    server = await startServer({ HISTORY_SIZE: '3' });
    for (let i = 0; i < 6; i++) await put(`/v1/kv/k${i}`, String(i));
    const res = await call('/v1/history/?recurse&index=1');
    expect(res.status).toBe(410);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const body = JSON.parse(res.text) as { Error: string; OldestIndex: number };
    expect(body.Error).toBe('compacted');
    const page = await history(`/v1/history/?recurse&index=${body.OldestIndex - 1}`);
    expect(page.Events.map((e) => e.Key)).toEqual(['k3', 'k4', 'k5']);
  });
});
