import { type ChildProcess, spawn } from 'node:child_process';
import { OutputWatch } from './output-watch.js';

/**
 * The built CLI (`dist/cli/main.js`, so `npm run build` first) as a child process, with only
 * the environment given (plus PATH): an operator's CONSUL_HTTP_ADDR never leaks into a test.
 */

export interface CliResult {
  /** The exit code, or the signal's name when one ended it. */
  readonly code: number | string;
  readonly stdout: string;
  readonly stdoutBytes: Buffer;
  readonly stderr: string;
}

export interface CliOptions {
  readonly env?: Record<string, string>;
  /** Written to stdin, which is then closed; stdin is /dev/null without it. */
  readonly input?: string | Buffer;
  readonly timeoutMs?: number;
}

export function spawnCli(args: readonly string[], options: CliOptions = {}): ChildProcess {
  return spawn(process.execPath, ['dist/cli/main.js', ...args], {
    env: { PATH: process.env.PATH ?? '', ...options.env },
    stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
}

/** Runs the CLI to completion (killed after timeoutMs). */
export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  const running = startCli(args, options);
  return running.result(options.timeoutMs);
}

export interface RunningCli {
  readonly process: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves once `stream` has printed something matching `pattern` (bounded). */
  waitForOutput(pattern: RegExp, stream?: 'stdout' | 'stderr', timeoutMs?: number): Promise<RegExpExecArray>;
  /** Resolves once the process has exited; kills it after timeoutMs. */
  result(timeoutMs?: number): Promise<CliResult>;
}

export function startCli(args: readonly string[], options: CliOptions = {}): RunningCli {
  const child = spawnCli(args, options);
  const stdout: Buffer[] = [];
  let stderr = '';
  const watch = new OutputWatch();
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout.push(chunk);
    watch.changed();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
    watch.changed();
  });
  if (options.input !== undefined) child.stdin?.end(options.input);
  const exited = new Promise<number | string>((resolve) =>
    child.once('close', (code, signal) => {
      resolve(code ?? signal ?? -1);
      watch.exit();
    }),
  );
  const stdoutText = (): string => Buffer.concat(stdout).toString('utf8');
  return {
    process: child,
    stdout: stdoutText,
    stderr: () => stderr,
    waitForOutput(pattern, stream = 'stdout', timeoutMs = 10_000) {
      return watch.waitFor(
        () => pattern.exec(stream === 'stdout' ? stdoutText() : stderr),
        `${pattern} on ${stream}`,
        timeoutMs,
        () => `stdout:\n${stdoutText()}\nstderr:\n${stderr}`,
      );
    },
    async result(timeoutMs = 20_000) {
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      const bytes = Buffer.concat(stdout);
      return { code, stdout: bytes.toString('utf8'), stdoutBytes: bytes, stderr };
    },
  };
}
