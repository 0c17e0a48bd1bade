import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { freePort } from '../helpers/redis-server.js';
import { type ChildServer, spawnServer, tempDir } from '../helpers/server.js';

/** Runs dist/main.js to completion and returns its exit code and everything it printed. */
function runToExit(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['dist/main.js'], {
      env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => resolve({ code, output }));
  });
}

describe('boot failures the operator must fix', () => {
  let dataDir: string;
  let first: ChildServer | undefined;

  beforeEach(async () => {
    dataDir = await tempDir();
  });
  afterEach(async () => {
    first?.process.kill('SIGKILL');
    await first?.exited;
    first = undefined;
    await rm(dataDir, { recursive: true, force: true });
  });

  it('a bad configuration exits 1 and names every bad variable', async () => {
    const { code, output } = await runToExit({ DATA_DIR: dataDir, PORT: '99999', HISTORY_SIZE: 'lots' });
    expect(code).toBe(1);
    expect(output).toContain('Invalid configuration');
    expect(output).toMatch(/PORT=99999: /);
    expect(output).toMatch(/HISTORY_SIZE=lots: /);
  });

  it('a second server on the same DATA_DIR refuses to start with a clear message', async () => {
    first = await spawnServer({ DATA_DIR: dataDir });
    const { code, output } = await runToExit({ DATA_DIR: dataDir });
    expect(code).toBe(1);
    expect(output).toContain(`in use by another Switchboard process (pid ${first.process.pid})`);
    expectOneLineReason(output);
  });

  it('a server that cannot reach Redis at boot says so in one line, naming the connection error', async () => {
    const closedPort = await freePort();
    const { code, output } = await runToExit({ REDIS_URL: `redis://127.0.0.1:${closedPort}`, REDIS_WRITE_TIMEOUT_MS: '500' });
    expect(code).toBe(1);
    expect(output).toMatch(new RegExp(`^switchboard: cannot open the log: no connection to Redis within 500 ms \\(last error: .*ECONNREFUSED 127\\.0\\.0\\.1:${closedPort}\\)$`, 'm'));
    expectOneLineReason(output);
  });
});

/** The reason is one `switchboard: ...` line for the operator, not a stack trace. */
function expectOneLineReason(output: string): void {
  expect(output.split('\n').filter((line) => line.startsWith('switchboard: '))).toHaveLength(1);
  expect(output).not.toMatch(/^\s+at /m);
}
