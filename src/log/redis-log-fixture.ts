import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { Redis } from 'ioredis';
import type { RedisServer } from '../../test/helpers/redis-server.js';
import type { LogEntry } from '../core/commands.js';
import type { RedisLogLogger } from './redis-connection.js';
import { RedisLog, type RedisLogOptions } from './redis-log.js';
import type { LogHarness } from './replicated-log.contract.js';

import { within } from './replicated-log.contract.js';

export { listen, within } from './replicated-log.contract.js';
import type { LogRecovery, Proposal, ReplicatedLog } from './replicated-log.js';

/** Test helpers for RedisLog specs: logs on a private test Redis, recorded log lines, waiting on listeners. */
export interface RecordedLine {
  readonly level: 'log' | 'warn' | 'error';
  readonly message: string;
}

export interface RecordingRedisLogger extends RedisLogLogger {
  readonly lines: RecordedLine[];
}

export function recordingLogger(): RecordingRedisLogger {
  const lines: RecordedLine[] = [];
  return {
    lines,
    log: (message) => lines.push({ level: 'log', message }),
    warn: (message) => lines.push({ level: 'warn', message }),
    error: (message) => lines.push({ level: 'error', message }),
  };
}

function uniquePrefix(): string {
  return `t-${randomBytes(5).toString('hex')}`;
}

/** RedisLogs on one test server (one prefix unless given another), all closed by cleanup(). */
export class RedisLogFixture {
  readonly prefix = uniquePrefix();
  private readonly logs: RedisLog[] = [];
  private readonly loggers = new Map<RedisLog, RecordingRedisLogger>();
  private adminClient?: Redis;

  constructor(private readonly server: Pick<RedisServer, 'url'>) {}

  log(options: Partial<RedisLogOptions> = {}): RedisLog {
    const logger = recordingLogger();
    const log = new RedisLog({ url: this.server.url, prefix: this.prefix, nodeName: `node-${this.logs.length + 1}`, logger, ...options });
    this.logs.push(log);
    this.loggers.set(log, logger);
    return log;
  }

  /** Two open nodes 'a' and 'b' sharing this fixture's log. */
  async twoNodes(): Promise<{ a: RedisLog; b: RedisLog }> {
    const a = this.log({ nodeName: 'a' });
    const b = this.log({ nodeName: 'b' });
    await a.open();
    await b.open();
    return { a, b };
  }

  /** The messages a log made by log() has logged so far. */
  messages(log: RedisLog, level?: RecordedLine['level']): string[] {
    return (this.loggers.get(log)?.lines ?? []).filter((l) => level === undefined || l.level === level).map((l) => l.message);
  }

  /** A plain client on the test server, for inspecting keys or FLUSHALL. */
  admin(): Redis {
    this.adminClient ??= new Redis(this.server.url, { maxRetriesPerRequest: 1 });
    return this.adminClient;
  }

  /**
   * The commands (name lower-cased, then its arguments) each named connection sent to the test
   * server while `during` ran, seen through MONITOR; connections opened meanwhile count too, if
   * still open after. Connections are named `switchboard:<node>:<role>`.
   */
  async commandsDuring(names: readonly string[], during: () => Promise<void>): Promise<Map<string, string[][]>> {
    const monitor = await monitorServer(this.server.url);
    try {
      await during();
      await monitor.caughtUp(this.admin());
    } finally {
      monitor.stop();
    }
    const nameOf = new Map<string, string>();
    for (const client of String(await this.admin().client('LIST')).split('\n')) {
      const name = / name=(\S+) /.exec(client)?.[1];
      const address = /\baddr=(\S+)/.exec(client)?.[1];
      if (name !== undefined && address !== undefined && names.includes(name)) nameOf.set(address, name);
    }
    const sent = new Map<string, string[][]>(names.map((name) => [name, []]));
    for (const { source, command } of monitor.seen) {
      const name = nameOf.get(source);
      if (name !== undefined) sent.get(name)?.push(command);
    }
    return sent;
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.logs.map((log) => log.close().catch(() => undefined)));
    this.adminClient?.disconnect();
  }
}

export function redisLogHarness(server: () => Pick<RedisServer, 'url'>): () => Promise<LogHarness> {
  return () => {
    const fixture = new RedisLogFixture(server());
    return Promise.resolve({ log: fixture.log(), reopen: () => Promise.resolve(fixture.log()), cleanup: () => fixture.cleanup() });
  };
}


/** Resolves with the first reset the log reports. */
export function nextReset(log: ReplicatedLog, timeoutMs = 10_000): Promise<{ recovery: LogRecovery; reason: string }> {
  return within(new Promise((resolve) => log.onReset((recovery, reason) => resolve({ recovery, reason }))), timeoutMs, 'a reset');
}


export function put(i: number, node = 'node-a'): Proposal {
  return { node, proposal: i, command: { type: 'kv.set', key: `k/${i}`, value: Buffer.from(`v${i}`), flags: 0n } };
}

export function range(count: number, from = 0): number[] {
  return Array.from({ length: count }, (_, i) => from + i);
}

export async function appendInOrder(log: ReplicatedLog, count: number, from = 0): Promise<LogEntry[]> {
  const acked: LogEntry[] = [];
  for (let i = from; i < from + count; i++) acked.push(await log.append(put(i)));
  return acked;
}

export function elapsedSince(start: number): number {
  return Date.now() - start;
}

/**
 * MONITOR on a raw socket: each line is `+<time> [<db> <source>] "<command>" "<arg>" ...`, with
 * quotes and control bytes escaped, so lines split cleanly. (ioredis's own monitor() mistakes
 * lines that arrive with its MONITOR reply for replies to other commands.)
 */
async function monitorServer(url: string): Promise<{ seen: { source: string; command: string[] }[]; caughtUp(client: Redis): Promise<void>; stop(): void }> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  const seen: { source: string; command: string[] }[] = [];
  const markers = new Map<string, () => void>();
  let pending = '';
  let started: () => void = () => undefined;
  let failed: (error: Error) => void = () => undefined;
  const ready = new Promise<void>((resolve, reject) => {
    started = resolve;
    failed = reject;
  });
  // Before MONITOR started this fails the caller; after, the commands seen so far stand.
  socket.on('error', (error) => failed(error));
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    const lines = (pending + chunk).split('\r\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (line === '+OK') started();
      const parsed = /^\+\S+ \[\d+ (\S+)\] (.*)$/.exec(line);
      if (parsed === null) continue;
      const args = [...(parsed[2] ?? '').matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((match) => match[1] ?? '');
      const command = [String(args[0]).toLowerCase(), ...args.slice(1)];
      seen.push({ source: parsed[1] ?? '', command });
      if (command[0] === 'echo') markers.get(command[1] ?? '')?.();
    }
  });
  socket.write('MONITOR\r\n');
  await within(ready, 5000, 'MONITOR to start');
  return {
    seen,
    // The feed lags behind the replies (a snapshot's chunks are megabytes of escaped text in it)
    // and shows commands in the order Redis ran them: once a marker sent now shows, so has
    // everything sent before it.
    async caughtUp(client: Redis): Promise<void> {
      const marker = `monitor-caught-up-${randomBytes(6).toString('hex')}`;
      const shown = new Promise<void>((resolve) => markers.set(marker, resolve));
      await client.echo(marker);
      await within(shown, 10_000, 'MONITOR to show what was sent before');
    },
    stop: () => socket.destroy(),
  };
}
