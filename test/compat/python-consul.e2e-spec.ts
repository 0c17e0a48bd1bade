import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { type InProcessServer, startServer } from '../helpers/server.js';

/** Debian's interpreter, where `apt-get install python3-consul` puts the client (.ci/run does). */
const PYTHON = '/usr/bin/python3';

/** python-consul 0.7.1, the client Patroni ships with, against a real server, unchanged. */
describe('python-consul', () => {
  let server: InProcessServer;

  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it('reads, lists, writes with cas and flags, blocks, deletes, and runs a session with a lock', async () => {
    const url = new URL(server.url);
    const { stdout } = await promisify(execFile)(PYTHON, ['test/compat/python-consul-client.py', url.hostname, url.port], { timeout: 30_000 });
    const seen = JSON.parse(stdout) as Record<string, unknown>;
    expect(seen.put).toBe(true);
    expect(seen.get).toMatchObject({ key: 'py/db url', value: 'postgres://db' });
    expect(Number((seen.get as { index: string }).index)).toBeGreaterThan(1);
    expect(seen.missing).toMatchObject({ item: null });
    expect(Number((seen.missing as { index: string }).index)).toBeGreaterThanOrEqual(1);
    expect(seen.recurse).toEqual(['py/app/a', 'py/app/b/c']);
    expect(seen.keys).toEqual(['py/app/', 'py/db url']);
    expect(seen.cas_ok).toBe(true);
    expect(seen.cas_stale).toBe(false);
    expect(seen.create_only_existing).toBe(false);
    expect(seen.flags).toBe(true);
    expect(seen.flags_read).toBe('3304740253564472344');
    expect(seen.blocking).toEqual({ advanced: true, value: 'after' });
    expect(seen.delete).toBe(true);
    expect(seen.after_delete).toBeNull();
    expect(seen.status_leader).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(seen.session_info).toEqual({ Name: 'py-leader', TTL: '15s', Behavior: 'delete', LockDelay: 1_000_000, NodeChecks: [] });
    expect(seen.session_renew).toBe(true);
    expect(seen.acquire).toBe(true);
    expect(seen.holder).toBe(true);
    expect(seen.unknown_session).toContain('invalid session "00000000-0000-0000-0000-000000000000"');
    expect(seen.session_destroy).toBe(true);
    // behavior=delete: the lock key goes with the session.
    expect(seen.leader_after_destroy).toBeNull();
    expect(seen.renew_destroyed).toBe('NotFound');
  });
});
