import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startCli } from '../helpers/cli.js';
import { type InProcessServer, startServer, tempDir } from '../helpers/server.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * `switchboard lock` and `elect` running real shell commands against a real server; a lock is
 * lost by destroying its session server-side, as an operator (or an expiry) would.
 */
describe('switchboard lock and elect', () => {
  let server: InProcessServer;
  let env: Record<string, string>;
  let dir: string;

  beforeAll(async () => {
    server = await startServer();
    env = { SWITCHBOARD_ADDR: server.url };
    dir = await tempDir('switchboard-cli-lock-');
  });
  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  const holder = async (key: string): Promise<string | undefined> => {
    const response = await fetch(`${server.url}/v1/kv/${key}`);
    if (response.status === 404) return undefined;
    const [entry] = (await response.json()) as { Session?: string }[];
    return entry?.Session ?? undefined;
  };
  const destroySession = (id: string) => fetch(`${server.url}/v1/session/destroy/${id}`, { method: 'PUT' });
  const lines = async (file: string): Promise<string[]> => (await readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean);

  it('runs the command while holding the lock, stops it when the lock is lost, and exits 1', async () => {
    const marker = join(dir, 'lost.log');
    // Prints a line once running, and records the SIGTERM it gets when the lock is lost.
    const script = `trap 'echo terminated >> ${marker}; exit 0' TERM; echo running; while :; do sleep 0.05; done`;
    const cli = startCli(['lock', 'svc/leader', '--lock-delay', '0s', '--grace', '5s', '--', 'sh', '-c', script], { env });
    await cli.waitForOutput(/^running$/m);
    expect(cli.stderr()).toMatch(/switchboard: waiting for the lock on svc\/leader\nswitchboard: acquired svc\/leader \(lockIndex 1\)\n/);
    const session = await holder('svc/leader');
    expect(session).toEqual(expect.any(String));

    await destroySession(session!);
    const result = await cli.result();
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/switchboard: lost the lock on svc\/leader\n$/);
    expect(await lines(marker)).toEqual(['terminated']);
  });

  it('exits with the command\'s own exit code and releases the key', async () => {
    const cli = startCli(['lock', 'svc/job', '--', 'sh', '-c', 'echo working; exit 3'], { env });
    const result = await cli.result();
    expect(result).toMatchObject({ code: 3, stdout: 'working\n' });
    expect(await holder('svc/job')).toBeUndefined();
    const sessions = (await (await fetch(`${server.url}/v1/session/list`)).json()) as { Name: string }[];
    expect(sessions.filter((s) => s.Name === 'switchboard lock svc/job')).toEqual([]);
  });

  it('waits while another process holds the lock, and gets it as soon as that one exits', async () => {
    const release = join(dir, 'release-queue');
    const first = startCli(['lock', 'svc/queue', '--', 'sh', '-c', `echo first; while [ ! -f ${release} ]; do sleep 0.05; done`], { env });
    await first.waitForOutput(/^first$/m);
    const second = startCli(['lock', 'svc/queue', '--', 'sh', '-c', 'echo second'], { env });
    await second.waitForOutput(/waiting for the lock on svc\/queue/, 'stderr');
    await waitFor(async () => ((await (await fetch(`${server.url}/v1/session/list`)).json()) as unknown[]).length >= 2, 5000, 'the second session');
    expect(second.stdout()).toBe('');

    await writeFile(release, '');
    expect(await first.result()).toMatchObject({ code: 0 });
    // Released on exit (not destroyed alone), so no lock-delay stands in the second's way.
    expect(await second.result()).toMatchObject({ code: 0, stdout: 'second\n' });
  });

  it('elect starts the command when elected, stops it when demoted, starts it again, and exits with its code', async () => {
    const starts = join(dir, 'starts.log');
    const stopFile = join(dir, 'stop');
    const script = `echo started >> ${starts}; while [ ! -f ${stopFile} ]; do sleep 0.05; done; exit 3`;
    const cli = startCli(['elect', 'svc/primary', '--lock-delay', '0s', '--grace', '5s', '--', 'sh', '-c', script], { env });
    await waitFor(async () => (await lines(starts)).length === 1, 10_000, 'the first start');
    const firstSession = await holder('svc/primary');

    await destroySession(firstSession!);
    await cli.waitForOutput(/lost the lock on svc\/primary: stopping the command/, 'stderr');
    await waitFor(async () => (await lines(starts)).length === 2, 10_000, 'the start after re-election');
    const secondSession = await holder('svc/primary');
    expect(secondSession).not.toEqual(firstSession);

    await writeFile(stopFile, '');
    const result = await cli.result();
    expect(result.code).toBe(3);
    expect(await holder('svc/primary')).toBeUndefined();
  });
});
