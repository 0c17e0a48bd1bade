import { type ChildProcess, spawn } from 'node:child_process';
import { constants } from 'node:os';
import { printError } from './output.js';

/**
 * The command a lock or election holder runs. Its argv is executed directly, never through a
 * shell (write `sh -c '…'` for shell syntax), so arguments reach it exactly as given. It inherits
 * stdio and leads its own process group, so a stop reaches everything it started (the children of
 * `sh -c` too); the CLI forwards SIGINT/SIGTERM to that group, since a terminal's Ctrl-C only
 * reaches the foreground group, the CLI's.
 */
export class ChildCommand {
  /** The exit code; 128 + n when a signal n ended it, as shells report it; 127/126 when it could not start. */
  readonly exitCode: Promise<number>;
  private exited = false;

  private constructor(
    private readonly child: ChildProcess,
    command: string,
  ) {
    this.exitCode = new Promise((resolve) => {
      child.once('exit', (code, signal) => resolve(code ?? (signal === null ? 0 : signalExitCode(signal))));
      child.once('error', (error: NodeJS.ErrnoException) => {
        // Only a failed spawn emits 'error' without 'exit' (kill() errors are caught in signal()).
        if (child.pid !== undefined) return;
        printError(`cannot run ${JSON.stringify(command)}: ${error.message}`);
        resolve(error.code === 'ENOENT' ? 127 : 126);
      });
    });
    void this.exitCode.then(() => (this.exited = true));
  }

  static start(argv: readonly string[]): ChildCommand {
    const [file = '', ...args] = argv;
    return new ChildCommand(spawn(file, args, { stdio: 'inherit', detached: true }), file);
  }

  /** Sends `signal` to the command's process group. */
  signal(signal: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (this.exited || pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // The group is gone already: nothing left to signal.
    }
  }

  /** SIGTERM to the group, SIGKILL once `graceMs` have passed; resolves with the exit code. */
  async stop(graceMs: number): Promise<number> {
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    try {
      return await this.exitCode;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The shells' exit code for a process ended by `signal`. */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + constants.signals[signal];
}
