/**
 * Child servers: spawn with output to a log file, wait until they answer, read their RSS and CPU
 * from /proc, and stop them by PID. Every child and temp dir is registered so that a normal exit,
 * an exception, SIGINT or SIGTERM all leave nothing running and nothing on disk.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';

export interface Child {
  name: string;
  pid: number;
  process: ChildProcess;
  logFile: string;
  /** Resolves with a description of how the child ended. */
  exited: Promise<string>;
  exitedAlready: () => boolean;
}

const children = new Set<Child>();
const tempDirs = new Set<string>();

export function makeTempDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `switchboard-bench-${name}-`));
  tempDirs.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

/** A port the kernel just handed out on loopback (free unless someone grabs it in between). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

export function startChild(name: string, command: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; logFile: string }): Child {
  const fd = openSync(opts.logFile, 'a');
  let proc: ChildProcess;
  try {
    proc = spawn(command, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  let done = false;
  const exited = new Promise<string>((resolve) => {
    proc.once('error', (err) => {
      done = true;
      resolve(`failed to start: ${err.message}`);
    });
    proc.once('exit', (code, signal) => {
      done = true;
      resolve(signal ? `killed by ${signal}` : `exited with code ${code}`);
    });
  });
  if (proc.pid === undefined) {
    // spawn failed synchronously (ENOENT and the like); 'error' follows on the next tick
    const child: Child = { name, pid: -1, process: proc, logFile: opts.logFile, exited, exitedAlready: () => true };
    return child;
  }
  const child: Child = { name, pid: proc.pid, process: proc, logFile: opts.logFile, exited, exitedAlready: () => done };
  children.add(child);
  void exited.then(() => children.delete(child));
  return child;
}

/** SIGTERM, then SIGKILL if the child has not exited after `graceMs`. */
export async function stopChild(child: Child, graceMs = 5000): Promise<void> {
  if (child.exitedAlready()) return;
  child.process.kill('SIGTERM');
  const timer = sleep(graceMs, 'timeout' as const);
  if ((await Promise.race([child.exited, timer])) === 'timeout' && !child.exitedAlready()) {
    child.process.kill('SIGKILL');
    await child.exited;
  }
}

/** Polls `url` until it answers with a status `ok` accepts, the child dies, or `timeoutMs` passes. */
export async function waitForHttp(child: Child, url: string, ok: (status: number) => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (child.exitedAlready()) throw new Error(`${child.name} ${await child.exited} before answering ${url}\n${logTail(child)}`);
    try {
      const res = await request(url, { headersTimeout: 2000, bodyTimeout: 2000 });
      await res.body.dump();
      if (ok(res.statusCode)) return;
      last = `status ${res.statusCode}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await sleep(100);
  }
  throw new Error(`${child.name} did not answer ${url} within ${timeoutMs / 1000} s (${last})\n${logTail(child)}`);
}

export function logTail(child: Child, lines = 20): string {
  try {
    const text = readFileSync(child.logFile, 'utf8').trimEnd();
    if (!text) return `  (${child.name} printed nothing)`;
    return text.split('\n').slice(-lines).map((l) => `  | ${l}`).join('\n');
  } catch {
    return `  (no log at ${child.logFile})`;
  }
}

/** Resident set size of `pid` in bytes (VmRSS), or NaN when it cannot be read. */
export function rssBytes(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] ? Number(m[1]) * 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** User + system CPU seconds `pid` (all its threads) has used so far, or NaN. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after "pid (comm)": state is [0], utime [11], stime [12]
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond();
  } catch {
    return Number.NaN;
  }
}

export interface MachineCpu {
  /** Seconds of CPU spent in user + nice + system by every process on the machine. */
  processes: number;
  /** Seconds of CPU in interrupt handling (loopback traffic lands here) and stolen by the hypervisor. */
  softirq: number;
  steal: number;
}

/** Machine-wide CPU counters from /proc/stat (all cores), or NaNs. */
export function machineCpu(): MachineCpu {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).slice(1).map(Number);
    const hz = ticksPerSecond();
    return { processes: (user + nice + system) / hz, softirq: (irq + softirq) / hz, steal: steal / hz };
  } catch {
    return { processes: Number.NaN, softirq: Number.NaN, steal: Number.NaN };
  }
}

/** Stops every child and removes every temp dir; safe to call more than once. */
export async function cleanupAll(): Promise<void> {
  await Promise.all([...children].map((c) => stopChild(c, 3000)));
  for (const dir of [...tempDirs]) removeTempDir(dir);
}

/** Last resort on process exit: synchronous, so only SIGKILL and rmSync. */
function cleanupSync(): void {
  for (const c of children) {
    try {
      process.kill(c.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
}

let installed = false;
export function installExitHandlers(): void {
  if (installed) return;
  installed = true;
  process.on('exit', cleanupSync);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: stopping ${children.size} child process(es) and removing temp dirs…`);
      const force = setTimeout(() => process.exit(130), 5000);
      void cleanupAll().finally(() => {
        clearTimeout(force);
        process.exit(130);
      });
    });
  }
}
