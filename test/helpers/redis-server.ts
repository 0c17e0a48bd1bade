import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A private `redis-server` for tests: its own free loopback port and temp dir, so a suite never
 * touches a shared Redis (in particular not 127.0.0.1:6379). Readiness is a bounded PING poll
 * (Redis answers -LOADING while it replays its AOF, so "accepts connections" is not enough);
 * every stop and kill goes to this server's PID and waits for its exit event.
 */
export interface RedisServer {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** PID of the current process; changes with restart(). */
  readonly pid: number;
  /** SIGTERM (Redis flushes its AOF and exits cleanly), then waits for the exit. */
  stop(): Promise<void>;
  /** SIGKILL: no shutdown work at all, as in a crash. */
  kill9(): Promise<void>;
  /** Starts it again on the same port, dir and config (stopping it first if it runs). */
  restart(): Promise<void>;
  /** Stops it and deletes its dir. */
  dispose(): Promise<void>;
}

export interface RedisServerOptions {
  /** Extra config, e.g. ['--appendonly', 'yes', '--appendfsync', 'always']. */
  readonly args?: readonly string[];
  /** @default 10000 */
  readonly readyTimeoutMs?: number;
}

const EXIT_TIMEOUT_MS = 10_000;

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-redis-'));
  const port = await freePort();
  const readyTimeoutMs = options.readyTimeoutMs ?? 10_000;
  const args = [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no',
    '--protected-mode', 'no', '--daemonize', 'no', '--logfile', '', ...(options.args ?? []),
  ];
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let output = '';

  const launch = async (): Promise<void> => {
    const proc = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-4000);
    };
    proc.stdout.on('data', keep);
    proc.stderr.on('data', keep);
    let hasExited = false;
    exited = new Promise((resolve) => proc.once('exit', () => ((hasExited = true), resolve())));
    proc.once('error', (error) => keep(Buffer.from(String(error))));
    child = proc;
    const deadline = Date.now() + readyTimeoutMs;
    while (!(await answersPong(port))) {
      if (hasExited) throw new Error(`redis-server on port ${port} exited during startup:\n${output}`);
      if (Date.now() > deadline) {
        await signal('SIGKILL');
        throw new Error(`redis-server on port ${port} not ready within ${readyTimeoutMs} ms:\n${output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  const signal = async (name: NodeJS.Signals): Promise<void> => {
    const proc = child;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill(name);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), EXIT_TIMEOUT_MS)));
    const outcome = await Promise.race([exited.then(() => 'exited' as const), timeout]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      proc.kill('SIGKILL');
      await exited;
    }
  };

  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    get pid() {
      return child?.pid ?? -1;
    },
    stop: () => signal('SIGTERM'),
    kill9: () => signal('SIGKILL'),
    async restart() {
      await signal('SIGTERM');
      await launch();
    },
    async dispose() {
      await signal('SIGTERM');
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Asks the OS for an unused loopback port (never 6379 while a shared Redis holds it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** One raw PING; true only on +PONG (not on -LOADING or a refused connection). */
function answersPong(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}
