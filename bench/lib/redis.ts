/**
 * A private redis-server for the Redis-mode targets: its own free loopback port, its own temp dir,
 * no RDB snapshots, AOF on with the asked-for fsync policy. Never the shared Redis on :6379.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, logTail, startChild, stopChild, type Child } from './proc.js';

export type AppendFsync = 'everysec' | 'always';

/** The port the bench must never start on or talk to (the machine's shared Redis). */
const SHARED_REDIS_PORT = 6379;

export const REDIS_INSTALL_HINT = 'install it with `sudo apt-get install redis-server` (Debian/Ubuntu) or put a redis-server 6+ binary on PATH';

export function findRedisServer(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':').filter(Boolean)) {
    const candidate = join(dir, 'redis-server');
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** "7.0.15", or undefined when the binary does not say. */
export function redisVersion(bin: string | undefined): string | undefined {
  if (!bin) return undefined;
  try {
    return /\bv=(\S+)/.exec(execFileSync(bin, ['--version'], { encoding: 'utf8', timeout: 5000 }))?.[1];
  } catch {
    return undefined;
  }
}

/** One RESP PING over a fresh TCP connection; true on `+PONG`. */
function ping(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

export interface RunningRedis {
  child: Child;
  port: number;
  url: string;
}

/**
 * Starts redis-server with its data in `dir` and waits (bounded) until it answers PING. The caller
 * owns `dir`; on failure the child is already stopped.
 */
export async function startRedis(bin: string, dir: string, appendfsync: AppendFsync, timeoutMs = 10_000): Promise<RunningRedis> {
  let port = await freePort();
  while (port === SHARED_REDIS_PORT) port = await freePort();
  const child = startChild(
    'redis-server',
    bin,
    [
      // no config file: only these settings
      '--port', String(port),
      '--bind', '127.0.0.1',
      '--protected-mode', 'yes',
      '--daemonize', 'no',
      '--dir', dir,
      '--save', '',
      '--appendonly', 'yes',
      '--appendfsync', appendfsync,
      '--logfile', '',
    ],
    { cwd: dir, env: process.env, logFile: join(dir, 'redis.log') },
  );
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitedAlready()) throw new Error(`redis-server ${await child.exited} before answering PING on :${port}\n${logTail(child)}`);
    if (await ping(port)) return { child, port, url: `redis://127.0.0.1:${port}` };
    await sleep(50);
  }
  await stopChild(child);
  throw new Error(`redis-server did not answer PING on 127.0.0.1:${port} within ${timeoutMs / 1000} s\n${logTail(child)}`);
}
