import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { type AppConfig, loadConfig } from '../../src/config/app-config.js';
import { createServer } from '../../src/server.js';

export async function tempDir(prefix = 'switchboard-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export interface InProcessServer {
  readonly url: string;
  readonly app: NestFastifyApplication;
  readonly dataDir: string;
  close(): Promise<void>;
}

/** A real server in this process on a free loopback port with its own data dir. */
export async function startServer(overrides: Partial<Record<string, string>> = {}): Promise<InProcessServer> {
  const dataDir = overrides.DATA_DIR ?? (await tempDir());
  const config: AppConfig = loadConfig({ LOG_LEVEL: 'error', NODE_NAME: 'test-node', ...overrides, DATA_DIR: dataDir, PORT: '0' });
  const app = await createServer(config);
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return {
    url,
    app,
    dataDir,
    async close() {
      await app.close();
      if (overrides.DATA_DIR === undefined) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface ChildServer {
  readonly url: string;
  readonly process: ChildProcess;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  /** Everything the process printed so far. */
  output(): string;
}

const READY = /serving on (http:\/\/\S+)/;

/**
 * The built server (`dist/main.js`) as a child process; resolves once it logs its address (so
 * LOG_LEVEL must be `log` or more verbose). A server that does not come up is killed.
 */
export function spawnServer(env: Record<string, string>, timeoutMs = 20_000): Promise<ChildServer> {
  const child = spawn(process.execPath, ['dist/main.js'], {
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'log', NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      const match = READY.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve({ url: match[1].replace('[::1]', '127.0.0.1'), process: child, exited, output: () => output });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before it was ready:\n${output}`));
    });
  });
}
