import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { Switchboard, SwitchboardError } from '../../src/client/index.js';
import { type InProcessServer, startServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait-for.js';

/** Resolves with the reason once `signal` aborts, or rejects after timeoutMs. */
function abortReason(signal: AbortSignal, timeoutMs = 10_000): Promise<unknown> {
  if (signal.aborted) return Promise.resolve(signal.reason);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`signal not aborted within ${timeoutMs} ms`)), timeoutMs);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve(signal.reason);
    });
  });
}

describe('Switchboard.lock and elect', () => {
  let server: InProcessServer;
  beforeAll(async () => {
    // Sessions expire at exactly their TTL, so a killed holder is replaced within ~10 s.
    server = await startServer({ SESSION_TTL_MULTIPLIER: '1' });
  });
  afterAll(async () => {
    await server.close();
  });

  it('hands out a growing fencing token; a waiter gets the lock when the holder releases it', async () => {
    await using client = new Switchboard({ address: server.url });
    const first = await client.lock('locks/a', { ttl: '10s', lockDelay: '0s', value: 'first' });
    expect(first.lockIndex).toBeGreaterThanOrEqual(1);
    expect(await client.kv.get('locks/a')).toMatchObject({ session: first.session.id, lockIndex: first.lockIndex });
    const second = client.lock('locks/a', { ttl: '10s', lockDelay: '0s' });
    await first.release();
    expect(first.signal.reason).toMatchObject({ code: 'LOCK_RELEASED' });
    await using held = await second;
    expect(held.lockIndex).toBe(first.lockIndex + 1);
    expect(await client.sessions.info(first.session.id)).toBeUndefined();
  });

  it('aborts the lock signal with LOCK_LOST when the session is destroyed on the server', async () => {
    await using client = new Switchboard({ address: server.url });
    await using lock = await client.lock('locks/b', { ttl: '10s', lockDelay: '0s' });
    const other = new Switchboard({ address: server.url });
    await other.sessions.destroy(lock.session.id);
    await other.close();
    const reason = await abortReason(lock.signal);
    expect(reason).toBeInstanceOf(SwitchboardError);
    expect(reason).toMatchObject({ code: 'LOCK_LOST' });
  });

  it('elect fails over to the standby when the primary process is killed', async () => {
    const candidates: ChildProcess[] = [];
    const lines: string[] = [];
    const waiters = new Set<() => void>();
    const start = (name: string): ChildProcess => {
      const child = spawn(process.execPath, ['test/client/elect-candidate.mjs', server.url, 'locks/primary', name], { stdio: ['ignore', 'pipe', 'inherit'] });
      createInterface({ input: child.stdout }).on('line', (line) => {
        lines.push(line);
        for (const wake of [...waiters]) wake();
      });
      candidates.push(child);
      return child;
    };
    const line = (pattern: RegExp, timeoutMs: number): Promise<string> =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          const found = lines.find((l) => pattern.test(l));
          if (found === undefined) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no line matching ${String(pattern)} within ${timeoutMs} ms: ${JSON.stringify(lines)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    try {
      const a = start('a');
      await line(/^elected a /, 10_000);
      start('b');
      const client = new Switchboard({ address: server.url });
      // b is a standby: its session exists (named after the lock) and the key is still a's.
      const lockSessions = async (): Promise<number> => (await client.sessions.list()).filter((s) => s.name === 'switchboard lock locks/primary').length;
      await waitFor(async () => (await lockSessions()) === 2, 10_000, 'the standby session');
      const firstIndex = Number((await line(/^elected a /, 0)).split(' ')[2]);
      a.kill('SIGKILL');
      await once(a, 'exit');
      const elected = await line(/^elected b /, 20_000);
      expect(Number(elected.split(' ')[2])).toBeGreaterThan(firstIndex);
      expect((await client.kv.get('locks/primary'))?.value.toString()).toBe('b');
      await client.close();
    } finally {
      for (const child of candidates) child.kill('SIGKILL');
    }
  }, 40_000);
});
