import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';

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
  /** TLS only: the port is the TLS port (url rediss://), no plain-text port is opened. */
  readonly tls?: RedisTlsFiles;
}

/** PEM files; clients are not asked for certificates. */
export interface RedisTlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  /** The CA that signed certFile (readiness checks verify the server against it). */
  readonly caFile: string;
}

export interface SentinelOptions {
  /** The name the master is monitored under (REDIS_MASTER_NAME). */
  readonly masterName: string;
  readonly masterPort: number;
  /** @default 1 */
  readonly quorum?: number;
  /** @default 1000 */
  readonly downAfterMs?: number;
  /** @default 3000 */
  readonly failoverTimeoutMs?: number;
  /** @default 10000 */
  readonly readyTimeoutMs?: number;
}

const EXIT_TIMEOUT_MS = 10_000;

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-redis-'));
  const port = await freePort();
  const { tls } = options;
  const listen =
    tls === undefined
      ? ['--port', String(port)]
      : ['--port', '0', '--tls-port', String(port), '--tls-cert-file', tls.certFile, '--tls-key-file', tls.keyFile, '--tls-ca-cert-file', tls.caFile, '--tls-auth-clients', 'no'];
  const args = [
    ...listen, '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no',
    '--protected-mode', 'no', '--daemonize', 'no', '--logfile', '', ...(options.args ?? []),
  ];
  const ca = tls === undefined ? undefined : await readFile(tls.caFile);
  return supervise({ url: `${tls === undefined ? 'redis' : 'rediss'}://127.0.0.1:${port}`, port, dir, args, ca, readyTimeoutMs: options.readyTimeoutMs });
}

/**
 * A private Redis Sentinel (`redis-server <dir>/sentinel.conf --sentinel`) monitoring a master on
 * 127.0.0.1. Sentinel rewrites its config file as it learns replicas and fails over, so the file
 * lives in the sentinel's own dir; restart() keeps what it learnt.
 */
export async function startSentinel(options: SentinelOptions): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-sentinel-'));
  const port = await freePort();
  const { masterName } = options;
  const config = join(dir, 'sentinel.conf');
  await writeFile(
    config,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      'protected-mode no',
      'daemonize no',
      'logfile ""',
      `sentinel monitor ${masterName} 127.0.0.1 ${options.masterPort} ${options.quorum ?? 1}`,
      `sentinel down-after-milliseconds ${masterName} ${options.downAfterMs ?? 1000}`,
      `sentinel failover-timeout ${masterName} ${options.failoverTimeoutMs ?? 3000}`,
      '',
    ].join('\n'),
  );
  return supervise({ url: `redis://127.0.0.1:${port}`, port, dir, args: [config, '--sentinel'], readyTimeoutMs: options.readyTimeoutMs });
}

interface Supervised {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  readonly args: readonly string[];
  /** Set for a TLS-only server: readiness is checked over TLS against this CA. */
  readonly ca?: Buffer;
  readonly readyTimeoutMs?: number;
}

async function supervise({ url, port, dir, args, ca, readyTimeoutMs = 10_000 }: Supervised): Promise<RedisServer> {
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
    while (!(await answersPong(port, ca))) {
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
    url,
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
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** One raw PING (over TLS when given the CA); true only on +PONG (not on -LOADING or a refused connection). */
function answersPong(port: number, ca?: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    const socket: Socket = ca === undefined ? createConnection({ host: '127.0.0.1', port }) : tlsConnect({ host: '127.0.0.1', port, ca });
    let reply = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once(ca === undefined ? 'connect' : 'secureConnect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}
