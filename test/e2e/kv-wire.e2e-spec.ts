import { rawRequest, type RawResponse } from '../helpers/http.js';
import { type InProcessServer, startServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait-for.js';

/** Consul wire conformance for KV and blocking queries (API.md §5, §3, §14). */
describe('KV wire compatibility', () => {
  let server: InProcessServer;
  const call = (path: string, options: Parameters<typeof rawRequest>[2] = {}): Promise<RawResponse> =>
    rawRequest(server.url, path, options);
  const put = (path: string, body: string | Buffer = ''): Promise<RawResponse> => call(path, { method: 'PUT', body });
  const index = (res: RawResponse): number => Number(res.headers['x-consul-index']);
  const entry = (res: RawResponse): Record<string, unknown> => (JSON.parse(res.text) as Record<string, unknown>[])[0]!;

  beforeEach(async () => {
    server = await startServer();
  });
  afterEach(async () => {
    await server.close();
  });

  it('1. put then get returns the exact DirEntry shape with the index header', async () => {
    const written = await put('/v1/kv/a', 'x');
    expect(written.status).toBe(200);
    expect(written.text).toBe('true');
    expect(written.headers['content-type']).toMatch(/^application\/json/);
    expect(written.headers['x-consul-index']).toBeUndefined();
    const read = await call('/v1/kv/a');
    const i1 = index(read);
    expect(read.status).toBe(200);
    expect(read.headers['content-type']).toMatch(/^application\/json/);
    expect(read.text).toBe(`[{"LockIndex":0,"Key":"a","Flags":0,"Value":"eA==","CreateIndex":${i1},"ModifyIndex":${i1}}]`);
    expect(read.headers['x-consul-knownleader']).toBe('true');
    expect(read.headers['x-consul-lastcontact']).toBe('0');
  });

  it('2. an identical put keeps ModifyIndex and does not wake a blocked query', async () => {
    await put('/v1/kv/a', 'x');
    const i1 = index(await call('/v1/kv/a'));
    const blocked = call(`/v1/kv/a?index=${i1}&wait=1s`);
    await put('/v1/kv/a', 'x');
    const res = await blocked;
    expect(index(res)).toBe(i1);
    expect(entry(res).ModifyIndex).toBe(i1);
  });

  it('3. flags are stored when given and reset to 0 by a write without them', async () => {
    await put('/v1/kv/a', 'x');
    const i1 = index(await call('/v1/kv/a'));
    await put('/v1/kv/a?flags=7', 'x');
    const withFlags = entry(await call('/v1/kv/a'));
    expect(withFlags.Flags).toBe(7);
    expect(withFlags.ModifyIndex as number).toBeGreaterThan(i1);
    await put('/v1/kv/a', 'x');
    const reset = entry(await call('/v1/kv/a'));
    expect(reset.Flags).toBe(0);
    expect(reset.ModifyIndex as number).toBeGreaterThan(withFlags.ModifyIndex as number);
  });

  it('4. cas=0 creates only once; a wrong cas answers false', async () => {
    expect((await put('/v1/kv/b?cas=0', '1')).text).toBe('true');
    expect((await put('/v1/kv/b?cas=0', '2')).text).toBe('false');
    expect((await put('/v1/kv/b?cas=999', '3')).text).toBe('false');
    const current = entry(await call('/v1/kv/b'));
    expect(current.Value).toBe(Buffer.from('1').toString('base64'));
    expect((await put(`/v1/kv/b?cas=${current.ModifyIndex as number}`, '4')).text).toBe('true');
  });

  it('5. an empty value reads back as null, and raw as an empty text/plain body', async () => {
    await put('/v1/kv/e');
    expect(entry(await call('/v1/kv/e')).Value).toBeNull();
    const raw = await call('/v1/kv/e?raw');
    expect(raw.status).toBe(200);
    expect(raw.body.length).toBe(0);
    expect(raw.headers['content-type']).toBe('text/plain');
    expect(raw.headers['x-content-type-options']).toBe('nosniff');
  });

  it('6. a missing key is 404 with an empty body and every index header', async () => {
    await put('/v1/kv/other', 'x');
    const res = await call('/v1/kv/nope');
    expect(res.status).toBe(404);
    expect(res.body.length).toBe(0);
    expect(res.headers['content-type']).toBeUndefined();
    expect(index(res)).toBeGreaterThanOrEqual(1);
    expect(res.headers['x-consul-knownleader']).toBe('true');
    expect(res.headers['x-consul-lastcontact']).toBe('0');
  });

  it('7. on an empty store: ?keys is 200 [], ?recurse is 404, a missing prefix with ?keys is 404; index never 0', async () => {
    const keys = await call('/v1/kv/?keys');
    expect(keys.status).toBe(200);
    expect(keys.text).toBe('[]');
    expect(index(keys)).toBe(1);
    const recurse = await call('/v1/kv/?recurse');
    expect(recurse.status).toBe(404);
    expect(index(recurse)).toBe(1);
    expect((await call('/v1/kv/zz?keys')).status).toBe(404);
  });

  it('8. ?keys&separator groups after the first separator past the prefix (and seperator is accepted)', async () => {
    for (const key of ['web/bar', 'web/foo', 'web/sub/x', 'web/sub/y', 'website']) await put(`/v1/kv/${key}`, 'v');
    expect((await call('/v1/kv/web?keys&separator=/')).text).toBe('["web/","website"]');
    expect((await call('/v1/kv/web/?keys&seperator=/')).text).toBe('["web/bar","web/foo","web/sub/"]');
    expect((await call('/v1/kv/web/?keys')).text).toBe('["web/bar","web/foo","web/sub/x","web/sub/y"]');
  });

  it.each(['recurse', 'recurse=', 'recurse=false', 'recurse=0', 'recurse=true', 'recurse=1'])(
    '9. flags count by presence: ?%s recurses',
    async (flag) => {
      for (const key of ['web/bar', 'web/sub/x', 'website']) await put(`/v1/kv/${key}`, 'v');
      const res = await call(`/v1/kv/web?${flag}`);
      expect((JSON.parse(res.text) as { Key: string }[]).map((e) => e.Key)).toEqual(['web/bar', 'web/sub/x', 'website']);
    },
  );

  it('10. a blocking query with nothing changing returns at wait with the same index', async () => {
    await put('/v1/kv/a', 'x');
    const i1 = index(await call('/v1/kv/a'));
    const started = Date.now();
    const res = await call(`/v1/kv/a?index=${i1}&wait=1s`);
    const elapsed = Date.now() - started;
    expect(res.status).toBe(200);
    expect(index(res)).toBe(i1);
    expect(elapsed).toBeGreaterThanOrEqual(990);
    expect(elapsed).toBeLessThan(1062.5 + 500);
  });

  it('11. wait=9.87s and wait=60000ms are accepted', async () => {
    await put('/v1/kv/a', 'x');
    const i1 = index(await call('/v1/kv/a'));
    const controller = new AbortController();
    const fractional = call(`/v1/kv/a?index=${i1}&wait=9.87s`, { signal: controller.signal });
    const millis = call(`/v1/kv/a?index=${i1}&wait=60000ms`, { signal: controller.signal });
    await put('/v1/kv/a', 'y');
    expect((await fractional).status).toBe(200);
    expect((await millis).status).toBe(200);
  });

  it('12. a blocking query on one key is not woken by writes to another, and is by its own', async () => {
    await put('/v1/kv/watched', '1');
    const i1 = index(await call('/v1/kv/watched'));
    let settled = false;
    const blocked = call(`/v1/kv/watched?index=${i1}&wait=30s`).then((res) => {
      settled = true;
      return res;
    });
    await put('/v1/kv/other', '1');
    await put('/v1/kv/watchedX', '1');
    // The other writes are applied and acknowledged; a read round-trip later the query still waits.
    await call('/v1/kv/other');
    expect(settled).toBe(false);
    await put('/v1/kv/watched', '2');
    const res = await blocked;
    expect(index(res)).toBeGreaterThan(i1);
    expect(entry(res).Value).toBe(Buffer.from('2').toString('base64'));
  });

  it('13. a blocking query on a missing key returns when the key is created', async () => {
    await put('/v1/kv/other', '1');
    const missing = await call('/v1/kv/later');
    expect(missing.status).toBe(404);
    const blocked = call(`/v1/kv/later?index=${index(missing)}&wait=30s`);
    await put('/v1/kv/later', 'here');
    const res = await blocked;
    expect(res.status).toBe(200);
    expect(entry(res).Value).toBe(Buffer.from('here').toString('base64'));
  });

  it('14. the index of a key, a prefix and a missing key', async () => {
    await put('/v1/kv/p/a', '1');
    await put('/v1/kv/p/b', '1');
    await put('/v1/kv/q', '1');
    const a = entry(await call('/v1/kv/p/a')).ModifyIndex as number;
    const b = entry(await call('/v1/kv/p/b')).ModifyIndex as number;
    const q = entry(await call('/v1/kv/q')).ModifyIndex as number;
    expect(index(await call('/v1/kv/p/a'))).toBe(a);
    expect(index(await call('/v1/kv/p/?recurse'))).toBe(b);
    expect(index(await call('/v1/kv/p/?keys'))).toBe(b);
    expect(index(await call('/v1/kv/missing'))).toBe(q);
  });

  it('15. a delete under a prefix raises the prefix index (tombstone) and wakes a recurse query', async () => {
    await put('/v1/kv/p/a', '1');
    await put('/v1/kv/p/b', '1');
    await put('/v1/kv/zzz', '1');
    const before = index(await call('/v1/kv/p/?recurse'));
    const blocked = call(`/v1/kv/p/?recurse&index=${before}&wait=30s`);
    await call('/v1/kv/p/a', { method: 'DELETE' });
    const res = await blocked;
    expect(index(res)).toBeGreaterThan(before);
    expect((JSON.parse(res.text) as { Key: string }[]).map((e) => e.Key)).toEqual(['p/b']);
  });

  it('16. percent-encoded keys are decoded once', async () => {
    expect((await put('/v1/kv/a%2Fb%20c', 'v')).text).toBe('true');
    const res = await call('/v1/kv/a/b%20c');
    expect(entry(res).Key).toBe('a/b c');
    expect((await call('/v1/kv/a%252Fb')).status).toBe(404);
    await put('/v1/kv/x%252Fy', 'v');
    expect(entry(await call('/v1/kv/x%252Fy')).Key).toBe('x%2Fy');
  });

  it('17. flags 3304740253564472344 round-trip exactly', async () => {
    await put('/v1/kv/lock?flags=3304740253564472344', 'v');
    const res = await call('/v1/kv/lock');
    expect(res.text).toContain('"Flags":3304740253564472344,');
    await put('/v1/kv/max?flags=18446744073709551615', 'v');
    expect((await call('/v1/kv/max')).text).toContain('"Flags":18446744073709551615,');
  });

  it('18. cas=0 on an existing key is false; delete with cas on a missing key is true; cas=0 never deletes', async () => {
    await put('/v1/kv/k', 'v');
    expect((await put('/v1/kv/k?cas=0', 'w')).text).toBe('false');
    expect((await call('/v1/kv/missing?cas=7', { method: 'DELETE' })).text).toBe('true');
    expect((await call('/v1/kv/k?cas=0', { method: 'DELETE' })).text).toBe('false');
    const current = entry(await call('/v1/kv/k')).ModifyIndex as number;
    expect((await call(`/v1/kv/k?cas=${current}`, { method: 'DELETE' })).text).toBe('true');
    expect((await call('/v1/kv/k')).status).toBe(404);
  });

  it('19. delete of a missing key is true; recursive delete removes the prefix only', async () => {
    expect((await call('/v1/kv/nothing', { method: 'DELETE' })).text).toBe('true');
    for (const key of ['d/a', 'd/b/c', 'da', 'e']) await put(`/v1/kv/${key}`, 'v');
    expect((await call('/v1/kv/d/?recurse', { method: 'DELETE' })).text).toBe('true');
    expect((await call('/v1/kv/?keys')).text).toBe('["da","e"]');
  });

  it('20. the key itself is part of its recursive read, in byte order', async () => {
    for (const key of ['web', 'web/b', 'web/a', 'we']) await put(`/v1/kv/${key}`, 'v');
    const res = await call('/v1/kv/web?recurse');
    expect((JSON.parse(res.text) as { Key: string }[]).map((e) => e.Key)).toEqual(['web', 'web/a', 'web/b']);
  });

  it('21. raw returns the stored bytes; raw with recurse returns JSON', async () => {
    const bytes = Buffer.from([0, 1, 2, 255, 254]);
    await put('/v1/kv/bin', bytes);
    const raw = await call('/v1/kv/bin?raw');
    expect(raw.body.equals(bytes)).toBe(true);
    const json = await call('/v1/kv/bin?raw&recurse');
    expect(json.headers['content-type']).toMatch(/^application\/json/);
  });

  it.each(['application/json', 'application/x-www-form-urlencoded', 'text/plain; charset=utf-8', 'application/octet-stream'])(
    '22. a PUT body is stored byte for byte whatever its Content-Type (%s)',
    async (contentType) => {
      const body = '{"not": "parsed"}&a=b';
      await call('/v1/kv/ct', { method: 'PUT', body, headers: { 'content-type': contentType } });
      expect((await call('/v1/kv/ct?raw')).text).toBe(body);
    },
  );

  it('23. a PUT without a Content-Type stores its body', async () => {
    await call('/v1/kv/noct', { method: 'PUT', body: 'plain' });
    expect((await call('/v1/kv/noct?raw')).text).toBe('plain');
  });

  it('24. GET of the root without flags and PUT/DELETE of an empty key are 400 Missing key name', async () => {
    for (const [method, path] of [['GET', '/v1/kv/'], ['PUT', '/v1/kv/'], ['DELETE', '/v1/kv/']] as const) {
      const res = await call(path, { method });
      expect(res.status).toBe(400);
      expect(res.text).toBe('Missing key name');
    }
  });

  it('25. conflicting cas/acquire/release flags are 400; recurse with cas on delete is 400', async () => {
    const res = await call('/v1/kv/k?cas=1&acquire=x', { method: 'PUT' });
    expect(res.status).toBe(400);
    expect(res.text).toBe('Conflicting flags: cas=1&acquire=x');
    expect((await call('/v1/kv/k?recurse&cas=1', { method: 'DELETE' })).status).toBe(400);
  });

  it('26. a method not served is 405 with Allow; OPTIONS lists the methods', async () => {
    const post = await call('/v1/kv/k', { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('OPTIONS,GET,PUT,DELETE');
    expect(post.text).toBe('method POST not allowed');
    const head = await call('/v1/kv/k', { method: 'PATCH' });
    expect(head.status).toBe(405);
    const options = await call('/v1/kv/k', { method: 'OPTIONS' });
    expect(options.status).toBe(200);
    expect(options.headers.allow).toBe('OPTIONS,GET,PUT,DELETE');
  });

  it('27. an unknown /v1 path is Consul\'s 404 text', async () => {
    const res = await call('/v1/nothing/here');
    expect(res.status).toBe(404);
    expect(res.text).toBe('Invalid URL path: not a recognized HTTP API endpoint');
  });

  it('28. a blocking query with wait=20m is accepted (clamped; see blocking-query.spec) and released on disconnect', async () => {
    await put('/v1/kv/a', 'x');
    const i1 = index(await call('/v1/kv/a'));
    const controller = new AbortController();
    const blocked = call(`/v1/kv/a?index=${i1}&wait=20m`, { signal: controller.signal }).catch((error: Error) => error);
    await waitFor(async () => (await waiters()) === 1);
    controller.abort();
    await blocked;
    await waitFor(async () => (await waiters()) === 0);
  });

  it('29. ?consistent and ?stale are accepted alone and rejected together', async () => {
    await put('/v1/kv/a', 'x');
    expect((await call('/v1/kv/a?consistent')).status).toBe(200);
    expect((await call('/v1/kv/a?stale=1&dc=dc1')).status).toBe(200);
    const both = await call('/v1/kv/a?stale&consistent');
    expect(both.status).toBe(400);
    expect(both.text).toBe('Cannot specify ?stale with ?consistent, conflicting semantics.');
  });

  it('30. status and agent endpoints answer in the shapes clients probe', async () => {
    const leader = await call('/v1/status/leader');
    expect(leader.headers['content-type']).toMatch(/^application\/json/);
    // The address this node really listens on (PORT=0 here), the one peers would be given.
    expect(JSON.parse(leader.text)).toBe(`127.0.0.1:${new URL(server.url).port}`);
    expect(JSON.parse((await call('/v1/status/peers')).text)).toEqual([JSON.parse(leader.text)]);
    const self = JSON.parse((await call('/v1/agent/self')).text) as { Config: Record<string, unknown>; Member: object; Switchboard: object };
    expect(self.Config).toMatchObject({ Datacenter: 'dc1', NodeName: 'test-node', Version: '1.17.0' });
    expect(self.Member).toBeDefined();
    expect(self.Switchboard).toMatchObject({ NodeName: 'test-node', Transport: 'file', KnownLeader: true, Members: ['test-node'], Lag: 0 });
    // The digest encodes the whole state, so a probe gets it only when it asks.
    expect(self.Switchboard).not.toHaveProperty('StateDigest');
    const withDigest = JSON.parse((await call('/v1/agent/self?digest')).text) as { Switchboard: object };
    expect(withDigest.Switchboard).toMatchObject({ StateDigest: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it('31. keys that end in / are legal folder keys', async () => {
    expect((await put('/v1/kv/folder/', '')).text).toBe('true');
    expect(entry(await call('/v1/kv/folder/')).Key).toBe('folder/');
  });

  it('32. a blocking recurse query wakes on a write anywhere under the prefix, not outside it', async () => {
    await put('/v1/kv/cfg/a', '1');
    const before = index(await call('/v1/kv/cfg/?recurse'));
    let settled = false;
    const blocked = call(`/v1/kv/cfg/?recurse&index=${before}&wait=30s`).then((res) => {
      settled = true;
      return res;
    });
    await put('/v1/kv/cfgX', '1');
    await call('/v1/kv/cfgX');
    expect(settled).toBe(false);
    await put('/v1/kv/cfg/deep/b', '1');
    expect(index(await blocked)).toBeGreaterThan(before);
  });

  it('33. an index ahead of the server blocks, then answers the lower current index', async () => {
    await put('/v1/kv/a', 'x');
    const i1 = index(await call('/v1/kv/a'));
    const res = await call(`/v1/kv/a?index=${i1 + 1000}&wait=200ms`);
    expect(index(res)).toBe(i1);
  });

  it('34. of 16 concurrent CAS with the same index exactly one wins, and the losers cost no log entry', async () => {
    await put('/v1/kv/counter', '0');
    const start = entry(await call('/v1/kv/counter')).ModifyIndex as number;
    const answers = await Promise.all(Array.from({ length: 16 }, (_, i) => put(`/v1/kv/counter?cas=${start}`, String(i + 1))));
    expect(answers.filter((a) => a.text === 'true')).toHaveLength(1);
    expect(answers.filter((a) => a.text === 'false')).toHaveLength(15);
    await put('/v1/kv/after', 'x');
    // One entry for the winning CAS, one for this write: the refused ones never reached the log.
    expect(entry(await call('/v1/kv/after')).ModifyIndex).toBe(start + 2);
  });

  async function waiters(): Promise<number> {
    const self = JSON.parse((await call('/v1/agent/self')).text) as { Switchboard: { BlockingWaiters: number } };
    return self.Switchboard.BlockingWaiters;
  }
});
