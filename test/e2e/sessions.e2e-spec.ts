import { rawRequest, type RawResponse } from '../helpers/http.js';
import { type InProcessServer, startServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait-for.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const UNKNOWN = '00000000-0000-0000-0000-000000000000';

type SessionJson = Record<string, unknown>;

/** Sessions and locks on the wire (API.md §5.3.3–5.5, §6, §14 vectors 11–18). */
describe('sessions and locks', () => {
  let server: InProcessServer;
  const call = (path: string, options: Parameters<typeof rawRequest>[2] = {}): Promise<RawResponse> => rawRequest(server.url, path, options);
  const put = (path: string, body: string = ''): Promise<RawResponse> => call(path, { method: 'PUT', body });
  const index = (res: RawResponse): number => Number(res.headers['x-consul-index']);
  const createSession = async (body: object | string = ''): Promise<string> => {
    const res = await put('/v1/session/create', typeof body === 'string' ? body : JSON.stringify(body));
    expect(res.status).toBe(200);
    return (JSON.parse(res.text) as { ID: string }).ID;
  };
  const info = async (id: string): Promise<SessionJson[]> => JSON.parse((await call(`/v1/session/info/${id}`)).text) as SessionJson[];
  const kv = async (key: string): Promise<SessionJson | undefined> => {
    const res = await call(`/v1/kv/${key}`);
    return res.status === 404 ? undefined : (JSON.parse(res.text) as SessionJson[])[0];
  };

  beforeAll(async () => {
    server = await startServer({ NODE_NAME: 'node-a' });
  });
  afterAll(async () => {
    await server.close();
  });

  describe('create and read', () => {
    it('11. python-consul lower-case keys: TTL kept as written, LockDelay in ns, the exact object shape', async () => {
      const id = await createSession({ ttl: '15.0s', behavior: 'delete', lockdelay: '0.001s', name: 'py' });
      expect(id).toMatch(UUID);
      const res = await call(`/v1/session/info/${id}`);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      const created = index(res);
      expect(res.text).toBe(
        `[{"ID":"${id}","Name":"py","Node":"node-a","LockDelay":1000000,"Behavior":"delete","TTL":"15.0s",` +
          `"NodeChecks":["serfHealth"],"ServiceChecks":null,"Checks":["serfHealth"],"CreateIndex":${created},"ModifyIndex":${created}}]`,
      );
      expect(res.headers['x-consul-knownleader']).toBe('true');
    });

    it('an empty body takes every default; node-consul PascalCase with Checks: [] drops serfHealth', async () => {
      const [defaults] = await info(await createSession());
      expect(defaults).toMatchObject({ Name: '', Node: 'node-a', LockDelay: 15_000_000_000, Behavior: 'release', TTL: '', NodeChecks: ['serfHealth'] });
      const [custom] = await info(await createSession({ LockDelay: '1s', Name: 'n', Checks: [], Behavior: 'delete', TTL: '15s' }));
      expect(custom).toMatchObject({ Name: 'n', LockDelay: 1_000_000_000, Behavior: 'delete', TTL: '15s', NodeChecks: [] });
      expect(custom).not.toHaveProperty('Checks');
    });

    it.each([
      [5, 5_000_000_000],
      [5000, 5000],
      ['0', 0],
      [61_000_000_000, 60_000_000_000],
    ])('LockDelay %p is %d ns (numbers below 1000 are seconds, capped at 60 s)', async (lockDelay, ns) => {
      const [session] = await info(await createSession({ LockDelay: lockDelay }));
      expect(session?.LockDelay).toBe(ns);
    });

    it.each([
      [{ TTL: '5s' }, 500, "Invalid Session TTL '5000000000', must be between [10s=24h0m0s]"],
      [{ TTL: '25h' }, 500, "Invalid Session TTL '90000000000000', must be between [10s=24h0m0s]"],
      [{ TTL: 30 }, 400, undefined],
      [{ LockDelay: '5' }, 400, undefined],
      [{ Behavior: 'Delete' }, 400, "Invalid Behavior setting 'Delete'"],
      [{ Checks: ['service:web'] }, 400, "Missing check 'service:web' registration"],
      ['{"TTL":', 400, undefined],
      ['[1]', 400, undefined],
    ])('create %j → %d with Consul’s reason', async (body, status, text) => {
      const res = await put('/v1/session/create', typeof body === 'string' ? body : JSON.stringify(body));
      expect(res.status).toBe(status);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      if (text !== undefined) expect(res.text).toBe(text);
      expect(res.text).not.toContain('\n');
      expect((await call('/v1/status/leader')).status).toBe(200);
    });

    it('17. unknown ids: renew 404 with Consul’s text, info 200 [], destroy 200 true', async () => {
      const renew = await put(`/v1/session/renew/${UNKNOWN}`);
      expect(renew.status).toBe(404);
      expect(renew.text).toBe(`Session id '${UNKNOWN}' not found`);
      const read = await call(`/v1/session/info/${UNKNOWN}`);
      expect([read.status, read.text]).toEqual([200, '[]']);
      expect(index(read)).toBeGreaterThanOrEqual(1);
      const destroy = await put(`/v1/session/destroy/${UNKNOWN}`);
      expect([destroy.status, destroy.text]).toEqual([200, 'true']);
    });

    it.each(['renew', 'destroy', 'info'])('%s: a missing id is 400 Missing session, a non-UUID id 400', async (verb) => {
      const method = verb === 'info' ? 'GET' : 'PUT';
      const missing = await call(`/v1/session/${verb}/`, { method });
      expect([missing.status, missing.text]).toEqual([400, 'Missing session']);
      const malformed = await call(`/v1/session/${verb}/not-a-uuid`, { method });
      expect(malformed.status).toBe(400);
      expect(malformed.text).toContain('not-a-uuid');
    });

    it('renew answers a JSON array with the session and its stored TTL', async () => {
      const id = await createSession({ TTL: '20s' });
      const res = await put(`/v1/session/renew/${id}`);
      expect(res.status).toBe(200);
      const renewed = JSON.parse(res.text) as SessionJson[];
      expect(renewed).toHaveLength(1);
      expect(renewed[0]).toMatchObject({ ID: id, TTL: '20s' });
    });

    it('list and node/<node> (case-insensitive) are arrays, [] when nothing matches', async () => {
      const id = await createSession({ Node: 'Worker-7' });
      const list = JSON.parse((await call('/v1/session/list')).text) as SessionJson[];
      expect(list.map((s) => s.ID)).toContain(id);
      const byNode = JSON.parse((await call('/v1/session/node/worker-7')).text) as SessionJson[];
      expect(byNode.map((s) => s.ID)).toEqual([id]);
      expect((await call('/v1/session/node/nobody')).text).toBe('[]');
      expect((await call('/v1/session/node/')).text).toBe('Missing node name');
    });

    it('a blocking list wakes on create and destroy, not on renew', async () => {
      const id = await createSession({ TTL: '30s' });
      const before = index(await call('/v1/session/list'));
      const renewWait = call(`/v1/session/list?index=${before}&wait=500ms`);
      await put(`/v1/session/renew/${id}`);
      const afterRenew = await renewWait;
      expect(index(afterRenew)).toBe(before);
      const destroyWait = call(`/v1/session/list?index=${before}&wait=10s`);
      await put(`/v1/session/destroy/${id}`);
      const afterDestroy = await destroyWait;
      expect(index(afterDestroy)).toBeGreaterThan(before);
      expect((JSON.parse(afterDestroy.text) as SessionJson[]).map((s) => s.ID)).not.toContain(id);
    });

    it('GET on create is 405 with Allow; OPTIONS lists the methods', async () => {
      const res = await call('/v1/session/create');
      expect(res.status).toBe(405);
      expect(res.headers.allow).toBe('OPTIONS,PUT');
      expect((await call('/v1/session/list', { method: 'OPTIONS' })).headers.allow).toBe('OPTIONS,GET');
    });
  });

  describe('locks', () => {
    it('13. acquire, re-acquire, contention, release and a new holder: LockIndex is the fencing token', async () => {
      const s1 = await createSession();
      const s2 = await createSession();
      expect((await put(`/v1/kv/l13?acquire=${s1}`, 'one')).text).toBe('true');
      expect(await kv('l13')).toMatchObject({ LockIndex: 1, Session: s1, Value: Buffer.from('one').toString('base64') });
      expect((await put(`/v1/kv/l13?acquire=${s2}`, 'two')).text).toBe('false');
      expect((await put(`/v1/kv/l13?acquire=${s1}`, 'again')).text).toBe('true');
      expect(await kv('l13')).toMatchObject({ LockIndex: 1, Session: s1, Value: Buffer.from('again').toString('base64') });
      expect((await put(`/v1/kv/l13?release=${s2}`)).text).toBe('false');
      expect((await put(`/v1/kv/l13?release=${s1}`, 'released')).text).toBe('true');
      const released = await kv('l13');
      expect(released).toMatchObject({ LockIndex: 1, Value: Buffer.from('released').toString('base64') });
      expect(released).not.toHaveProperty('Session');
      expect((await put(`/v1/kv/l13?acquire=${s2}`)).text).toBe('true');
      expect(await kv('l13')).toMatchObject({ LockIndex: 2, Session: s2, Value: null });
    });

    it('18. an unknown session is the 500 clients match on; empty and malformed ids are 400', async () => {
      const unknown = await put(`/v1/kv/l18?acquire=${UNKNOWN}`);
      expect(unknown.status).toBe(500);
      expect(unknown.text).toBe(`invalid session "${UNKNOWN}"`);
      const empty = await put('/v1/kv/l18?acquire=');
      expect([empty.status, empty.text]).toEqual([400, 'missing session']);
      const malformed = await put('/v1/kv/l18?acquire=nope');
      expect([malformed.status, malformed.text]).toEqual([400, 'invalid session "nope"']);
      expect((await put(`/v1/kv/l18?release=${UNKNOWN}`)).text).toBe('false');
      expect(await kv('l18')).toBeUndefined();
    });

    it('plain writes stay advisory: a non-holder overwrites a locked key and the lock stays', async () => {
      const s1 = await createSession();
      await put(`/v1/kv/advisory?acquire=${s1}`, 'held');
      expect((await put('/v1/kv/advisory', 'overwritten')).text).toBe('true');
      expect(await kv('advisory')).toMatchObject({ Session: s1, LockIndex: 1, Value: Buffer.from('overwritten').toString('base64') });
    });

    it('14. destroy (release): value kept, Session cleared, acquire refused for the lock-delay, then allowed', async () => {
      const holder = await createSession({ LockDelay: '1s' });
      const other = await createSession();
      await put(`/v1/kv/l14?acquire=${holder}`, 'v');
      const destroyed = Date.now();
      await put(`/v1/session/destroy/${holder}`);
      const after = await kv('l14');
      expect(after).toMatchObject({ Value: Buffer.from('v').toString('base64'), LockIndex: 1 });
      expect(after).not.toHaveProperty('Session');
      expect((await put(`/v1/kv/l14?acquire=${other}`)).text).toBe('false');
      await waitFor(async () => (await put(`/v1/kv/l14?acquire=${other}`)).text === 'true', 5000, 'acquire after the lock-delay');
      expect(Date.now() - destroyed).toBeGreaterThanOrEqual(900);
      expect(await kv('l14')).toMatchObject({ Session: other, LockIndex: 2 });
    });

    it('15. destroy (delete): held keys are deleted and the parent prefix index moves forward', async () => {
      const holder = await createSession({ Behavior: 'delete', LockDelay: '0s' });
      await put('/v1/kv/svc15/keep', 'x');
      await put(`/v1/kv/svc15/leader?acquire=${holder}`, 'me');
      const before = index(await call('/v1/kv/svc15/?recurse'));
      await put(`/v1/session/destroy/${holder}`);
      expect(await kv('svc15/leader')).toBeUndefined();
      expect(index(await call('/v1/kv/svc15/?recurse'))).toBeGreaterThan(before);
    });
  });
});

/**
 * TTL expiry with real time kept short: multiplier 1 makes the deadline exactly the TTL, and the
 * minimum TTL is 10 s, so this waits about 10 s once for both behaviours.
 */
describe('session TTL expiry (SESSION_TTL_MULTIPLIER=1)', () => {
  let server: InProcessServer;

  beforeAll(async () => {
    server = await startServer({ SESSION_TTL_MULTIPLIER: '1' });
  });
  afterAll(async () => {
    await server.close();
  });

  it('16. a 10 s session is invalidated within 1 s after its deadline: release clears, delete deletes, lock-delay holds', async () => {
    const call = (path: string, method = 'GET', body = ''): Promise<RawResponse> => rawRequest(server.url, path, { method, body });
    const create = async (behavior: string): Promise<string> =>
      (JSON.parse((await call('/v1/session/create', 'PUT', JSON.stringify({ TTL: '10s', Behavior: behavior, LockDelay: '2s' }))).text) as { ID: string }).ID;
    const released = await create('release');
    const deleted = await create('delete');
    const created = Date.now();
    await call(`/v1/kv/ttl/released?acquire=${released}`, 'PUT', 'kept');
    await call(`/v1/kv/ttl/deleted?acquire=${deleted}`, 'PUT', 'gone');
    const start = Number((await call('/v1/kv/ttl/?recurse')).headers['x-consul-index']);

    // Wait on the prefix with a blocking query until both keys have changed.
    let index = start;
    let entries: { Key: string; Session?: string }[] = [];
    while (!(entries.length === 1 && entries[0]?.Session === undefined)) {
      const res = await call(`/v1/kv/ttl/?recurse&index=${index}&wait=15s`);
      index = Number(res.headers['x-consul-index']);
      entries = res.status === 404 ? [] : (JSON.parse(res.text) as typeof entries);
      if (Date.now() - created > 15_000) throw new Error('sessions did not expire within 15 s');
    }
    const elapsed = Date.now() - created;
    expect(elapsed).toBeGreaterThanOrEqual(9_900);
    expect(elapsed).toBeLessThan(11_000);
    expect(entries.map((entry) => entry.Key)).toEqual(['ttl/released']);
    expect((await call(`/v1/session/info/${released}`)).text).toBe('[]');
    expect((await call(`/v1/session/info/${deleted}`)).text).toBe('[]');
    const fresh = (JSON.parse((await call('/v1/session/create', 'PUT')).text) as { ID: string }).ID;
    expect((await call(`/v1/kv/ttl/released?acquire=${fresh}`, 'PUT')).text).toBe('false');
    await waitFor(async () => (await call(`/v1/kv/ttl/released?acquire=${fresh}`, 'PUT')).text === 'true', 5000, 'acquire after lock-delay');
  }, 30_000);
});
