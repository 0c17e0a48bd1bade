import { execFile, spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Switchboard } from '../../src/client/index.js';
import { OutputWatch } from '../helpers/output-watch.js';
import { type InProcessServer, startServer, tempDir } from '../helpers/server.js';

/** The example as its README runs it, one process per instance, its log collected. */
interface ServiceProcess {
  output(): string;
  /** Resolves once the log matches `pattern`; rejects if the process exits or time runs out first. */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<void>;
  stop(): Promise<number | string>;
}

function startService(env: Record<string, string>): ServiceProcess {
  const child = spawn(process.execPath, ['examples/orders-service/dist/main.js'], {
    env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const watch = new OutputWatch();
  const onData = (chunk: Buffer): void => {
    output += chunk.toString('utf8');
    watch.changed();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
    watch.exit();
  });
  return {
    output: () => output,
    async waitForLog(pattern, timeoutMs = 10_000) {
      await watch.waitFor(() => pattern.exec(output), `the log line ${String(pattern)}`, timeoutMs, () => output);
    },
    async stop() {
      if (!hasExited) child.kill('SIGTERM');
      return exited;
    },
  };
}

describe('examples/orders-service', () => {
  let server: InProcessServer;
  let cacheDir: string;

  beforeAll(async () => {
    // Builds against the package's exports, i.e. dist/ from `npm run build` (npm test's pretest).
    await promisify(execFile)(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'examples/orders-service/tsconfig.json']);
    server = await startServer();
    cacheDir = await tempDir();
  }, 60_000);

  afterAll(async () => {
    await server.close();
    await rm(cacheDir, { recursive: true, force: true });
  });

  it('logs its DB URL at boot and on change, and its primary-only job moves when the primary stops', async () => {
    const writer = new Switchboard({ address: server.url });
    const env = { SWITCHBOARD_ADDRESS: server.url, ORDERS_CONFIG_CACHE: join(cacheDir, 'orders.json') };
    // The service refuses to boot without a DB URL: set it first.
    await writer.kv.put('orders/db_url', 'postgres://db1:5432/orders');
    const first = startService({ ...env, ORDERS_INSTANCE: 'first' });
    let second: ServiceProcess | undefined;
    try {
      await first.waitForLog(/database postgres:\/\/db1:5432\/orders \(config from server at index \d+\)/);
      await first.waitForLog(/first is primary \(fencing token \d+\)/);

      await writer.kv.put('orders/db_url', 'postgres://db2:5432/orders');
      await first.waitForLog(/database changed to postgres:\/\/db2:5432\/orders \(index \d+\); reconnecting/);

      second = startService({ ...env, ORDERS_INSTANCE: 'second' });
      await second.waitForLog(/database postgres:\/\/db2:5432\/orders/);
      await second.waitForLog(/second standing for primary/);
      // Nest closes the app on SIGTERM, then re-raises the signal; the log shows the close ran.
      expect(await first.stop()).toBe('SIGTERM');
      expect(first.output()).toMatch(/first is no longer primary \(lock on "service\/orders\/leader" released\): billing stopped/);
      await second.waitForLog(/second is primary/);
    } finally {
      await Promise.all([first.stop(), second?.stop()]);
      await writer.close();
    }
  }, 30_000);
});
