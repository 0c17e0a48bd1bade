import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { type RedisServer, startRedisServer } from '../../test/helpers/redis-server.js';
import { LogUnavailableError } from './log-unavailable-error.js';
import { appendInOrder, elapsedSince, listen, nextReset, put, range, RedisLogFixture } from './redis-log-fixture.js';
import { SocketDropper } from './socket-dropper-fixture.js';

/**
 * RedisLog under faults on purpose: history replaced under a node (FLUSHALL, an older copy
 * restored, trimmed past a lagging node), connections dropped mid-append by a proxy, and the
 * Redis process stopped, killed and restarted.
 */
let shared: RedisServer;
beforeAll(async () => {
  shared = await startRedisServer();
});
afterAll(() => shared.dispose());
describe('RedisLog resets', () => {
  let fixture: RedisLogFixture;
  beforeEach(() => {
    fixture = new RedisLogFixture(shared);
  });
  afterEach(() => fixture.cleanup());

  it('resets every node after FLUSHALL and carries on with a new epoch', async () => {
    const { a, b } = await fixture.twoNodes();
    const seenB = listen(b);
    await appendInOrder(a, 5);
    // b has the old history before it goes: what it delivers next belongs to the new one.
    await seenB.reach(5);
    const resets = [nextReset(a), nextReset(b)];
    await fixture.admin().flushall();
    const [resetA, resetB] = await Promise.all(resets);
    expect(resetA?.reason).toMatch(/epoch key is gone/);
    expect(resetB?.recovery).toEqual({ entries: [] });
    expect(fixture.messages(a, 'error').some((m) => m.includes('epoch key is gone'))).toBe(true);
    const entry = await a.append(put(1));
    expect(entry.seq).toBe(1);
    await seenB.reach(6);
    expect(seenB.entries.slice(5)).toEqual([entry]);
    expect(await fixture.admin().get(`{${fixture.prefix}}:epoch`)).toMatch(/^[0-9a-f]{16}$/);
  });

  it('resets a node whose seq went backwards under the same epoch (Redis restored from an older copy)', async () => {
    const log = fixture.log();
    await log.open();
    const seen = listen(log);
    const admin = fixture.admin();
    const tag = `{${fixture.prefix}}`;
    const acked = await appendInOrder(log, 2);
    const backup = await Promise.all([':seq', ':time', ':log'].map(async (k) => [tag + k, await admin.dumpBuffer(tag + k)] as const));
    await appendInOrder(log, 3, 2);
    await seen.reach(5);
    const reset = nextReset(log);
    for (const [key, dump] of backup) await admin.restore(key, 0, dump, 'REPLACE');
    const { reason, recovery } = await reset;
    expect(reason).toMatch(/seq went backwards from 5 to 2/);
    expect(recovery).toEqual({ entries: acked });
    const next = await log.append(put(9));
    expect(next.seq).toBe(3);
    await seen.reach(6);
    expect(seen.entries[5]).toEqual(next);
  });

  it('resets a node that fell behind the trimmed tail to the newest snapshot and the rest', async () => {
    const proxy = await SocketDropper.start(shared.port);
    try {
      const a = fixture.log({ nodeName: 'a', retainedEntries: 5 });
      const lagging = fixture.log({ nodeName: 'lagging', url: proxy.url });
      await a.open();
      await lagging.open();
      const seen = listen(lagging);
      const reset = nextReset(lagging);
      proxy.refuse = true;
      proxy.cut();
      const acked = await appendInOrder(a, 30);
      await a.saveSnapshot(25, Buffer.from('state@25'));
      proxy.refuse = false;
      const { reason, recovery } = await reset;
      expect(reason).toMatch(/entries 1\.\.25 were trimmed/);
      expect(recovery).toEqual({ snapshot: { seq: 25, data: Buffer.from('state@25') }, entries: acked.slice(25) });
      const next = await a.append(put(31));
      await seen.reach(1);
      expect(seen.entries).toEqual([next]);
    } finally {
      await fixture.cleanup();
      await proxy.close();
    }
  });
});

describe('RedisLog appends whose connection drops', () => {
  let fixture: RedisLogFixture;
  let proxy: SocketDropper;
  beforeEach(async () => {
    fixture = new RedisLogFixture(shared);
    proxy = await SocketDropper.start(shared.port);
  });
  afterEach(async () => {
    await fixture.cleanup();
    await proxy.close();
  });

  async function twoNodes(options: { writeTimeoutMs?: number } = {}) {
    const viaProxy = fixture.log({ nodeName: 'proxied', url: proxy.url, ...options });
    const direct = fixture.log({ nodeName: 'direct' });
    await viaProxy.open();
    await direct.open();
    return { viaProxy, direct, seenViaProxy: listen(viaProxy), seenDirect: listen(direct) };
  }

  it('resolves an append whose reply was lost once reading the log shows it was applied', async () => {
    const { viaProxy, seenViaProxy, seenDirect } = await twoNodes();
    proxy.mode = 'dropReplies';
    const appended = viaProxy.append(put(1));
    await seenDirect.reach(1);
    proxy.mode = 'forward';
    proxy.cut();
    const entry = await appended;
    expect(entry).toEqual(seenDirect.entries[0]);
    await seenViaProxy.reach(1);
    expect(seenViaProxy.entries).toEqual([entry]);
    expect((await viaProxy.append(put(2))).seq).toBe(2);
  });

  it('settles an append whose reply was lost as unreplicated when the required replicas do not acknowledge it', async () => {
    // The test Redis has no replicas: the batch's own WAIT reply was lost with the connection,
    // so finding the entry in the log must not be taken for the replicas' acknowledgement.
    const viaProxy = fixture.log({ nodeName: 'proxied', url: proxy.url, waitReplicas: 1, waitTimeoutMs: 200 });
    const direct = fixture.log({ nodeName: 'direct' });
    await viaProxy.open();
    await direct.open();
    const seenDirect = listen(direct);
    proxy.mode = 'dropReplies';
    const appended = viaProxy.append(put(1));
    await seenDirect.reach(1);
    proxy.mode = 'forward';
    proxy.cut();
    const failure = await appended.then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(LogUnavailableError);
    expect((failure as LogUnavailableError).outcome).toBe('unreplicated');
    expect((failure as LogUnavailableError).message).toMatch(/^seq 1 is in the log but only 0 of 1 required Redis replicas acknowledged it/);
  });

  it.each([1, 2, 3])('settles a whole pipelined batch whose replies were lost, each entry once (round %i)', async () => {
    const { viaProxy, seenViaProxy, seenDirect } = await twoNodes();
    proxy.mode = 'dropReplies';
    const appended = Promise.all(range(20).map((i) => viaProxy.append(put(i))));
    await seenDirect.reach(20);
    proxy.mode = 'forward';
    proxy.cut();
    const entries = await appended;
    expect(entries.map((e) => e.seq)).toEqual(range(20, 1));
    await seenViaProxy.reach(20);
    expect(seenViaProxy.entries).toEqual(entries);
    expect(seenDirect.entries).toEqual(entries);
  });

  it('rejects as not appended an append whose request was lost, and it never appears', async () => {
    const { viaProxy, direct } = await twoNodes();
    proxy.mode = 'dropRequests';
    const appended = viaProxy.append(put(1)).catch((e: unknown) => e);
    await proxy.until('dropped-request', 'XADD');
    proxy.mode = 'forward';
    proxy.cut();
    const error = await appended;
    expect(error).toBeInstanceOf(LogUnavailableError);
    expect(error).toMatchObject({ outcome: 'not-appended', message: expect.stringMatching(/the log shows it was not applied/) });
    expect(await direct.readIndex()).toBe(0);
    expect((await viaProxy.append(put(2))).seq).toBe(1);
  });

  it('fences a request still travelling on the dropped connection, so the settled verdict holds', async () => {
    const { viaProxy, direct } = await twoNodes();
    proxy.mode = 'holdRequests';
    const appended = viaProxy.append(put(1)).catch((e: unknown) => e);
    await proxy.until('held-request', 'XADD');
    proxy.mode = 'forward';
    proxy.cut({ keepUpstream: true });
    expect(await appended).toMatchObject({ outcome: 'not-appended' });
    const lateReply = await proxy.releaseHeld('XADD');
    expect(lateReply.toString()).toMatch(/SBFENCED/);
    expect(await direct.readIndex()).toBe(0);
  });

  it('rejects with an unknown outcome within writeTimeoutMs when it cannot reconnect to check', async () => {
    const { viaProxy, seenDirect } = await twoNodes({ writeTimeoutMs: 800 });
    proxy.mode = 'dropReplies';
    const start = Date.now();
    const appended = viaProxy.append(put(1)).catch((e: unknown) => e);
    await seenDirect.reach(1);
    proxy.refuse = true;
    proxy.mode = 'forward';
    proxy.cut();
    const error = await appended;
    expect(elapsedSince(start)).toBeLessThan(800 + 250);
    expect(error).toBeInstanceOf(LogUnavailableError);
    expect(error).toMatchObject({ outcome: 'unknown', message: expect.stringMatching(/may or may not have been applied/) });
    expect(viaProxy.health().connected).toBe(false);
  });
});

describe('RedisLog when Redis goes away', () => {
  let server: RedisServer;
  let fixture: RedisLogFixture;
  beforeEach(async () => {
    server = await startRedisServer({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
    fixture = new RedisLogFixture(server);
  });
  afterEach(async () => {
    await fixture.cleanup();
    await server.dispose();
  });

  it('rejects appends within writeTimeoutMs and reports itself disconnected', async () => {
    const log = fixture.log({ writeTimeoutMs: 500 });
    await log.open();
    await log.append(put(1));
    await server.stop();
    const start = Date.now();
    const error = await log.append(put(2)).catch((e: unknown) => e);
    expect(elapsedSince(start)).toBeLessThan(500 + 250);
    expect(error).toBeInstanceOf(LogUnavailableError);
    expect((error as Error).message).not.toMatch(/\n/);
    expect(log.health().connected).toBe(false);
    await expect(log.readIndex()).rejects.toBeInstanceOf(LogUnavailableError);
  });

  it('refuses unsent an append that waited out its deadline behind a batch a frozen Redis never answered', async () => {
    const log = fixture.log({ writeTimeoutMs: 1000 });
    await log.open();
    const seen = listen(log);
    process.kill(server.pid, 'SIGSTOP');
    try {
      const stuck = log.append(put(1)).catch((e: unknown) => e);
      await new Promise((resolve) => setImmediate(resolve)); // the first batch is on the wire
      const queued = await log.append(put(2)).catch((e: unknown) => e);
      expect(queued).toBeInstanceOf(LogUnavailableError);
      expect(queued).toMatchObject({ outcome: 'not-appended' });
      expect((queued as Error).message).toMatch(/never sent; it was not applied/);
      expect(await stuck).toMatchObject({ outcome: 'unknown' });
    } finally {
      process.kill(server.pid, 'SIGCONT');
    }
    // The stuck append lands once Redis runs again; the refused one never does.
    await seen.reach(1);
    const next = await log.append(put(3));
    await seen.reach(2);
    expect(seen.entries.map((e) => e.proposal)).toEqual([put(1).proposal, next.proposal]);
  });

  it.each(['stop', 'kill9'] as const)('resumes appending and tailing without gap or duplicate after a Redis %s and restart', async (how) => {
    const { a, b } = await fixture.twoNodes();
    const seenA = listen(a);
    const seenB = listen(b);
    const before = await Promise.all(range(20).map((i) => a.append(put(i))));
    await Promise.all([seenA.reach(20), seenB.reach(20)]);
    await (how === 'stop' ? server.stop() : server.kill9());
    await server.restart();
    const after = await Promise.all(range(20).map((i) => b.append(put(i, 'b'))));
    await Promise.all([seenA.reach(40), seenB.reach(40)]);
    const all = [...before, ...after].sort((x, y) => x.seq - y.seq);
    expect(all.map((e) => e.seq)).toEqual(range(40, 1));
    expect(seenA.entries).toEqual(all);
    expect(seenB.entries).toEqual(all);
    expect((await a.append(put(41))).seq).toBe(41);
    expect(a.health().connected).toBe(true);
  });
});
