import type { SwitchboardError } from '../../client/index.js';
import { type Command, type CommandSpec, durationOption, parseCommand, type ParsedArgs, UsageError } from '../args.js';
import { ChildCommand, signalExitCode } from '../child-command.js';
import { connect } from '../connection.js';
import { CliFailure, progress } from '../output.js';
import { clientCommandSpec } from '../usage.js';

/**
 * `lock <key> -- <command…>`: run a command while holding a lock, Consul's `consul lock` on
 * the SDK's lock(). The lock is a session lease: when it is lost (the session destroyed or
 * expired, the key taken) the command is stopped — SIGTERM to its process group, SIGKILL after
 * --grace — and the CLI exits 1. When the command ends by itself the lock is released and the
 * CLI exits with the command's code.
 */

const HOLDER_OPTIONS: CommandSpec['options'] = {
  ttl: { type: 'string' },
  'lock-delay': { type: 'string' },
  grace: { type: 'string' },
};

const HOLDER_OPTION_LINES = [
  '  --ttl <d>          session TTL, renewed every TTL/2, at least 10s (default 15s)',
  '  --lock-delay <d>   how long the key stays un-acquirable after a holder is lost (default 15s)',
  '  --grace <d>        after SIGTERM, how long the command has before SIGKILL (default 10s)',
];

const COMMAND_NOTE =
  'The command is run directly, not through a shell: write sh -c \'…\' for shell syntax. It runs in its own process group; SIGINT and SIGTERM are forwarded to it. Progress lines go to stderr.';

export interface HolderArgs {
  readonly key: string;
  readonly command: readonly string[];
  readonly ttl: string;
  readonly lockDelay: string;
  readonly graceMs: number;
  readonly args: ParsedArgs;
}

export function holderSpec(synopsis: string, description: string): CommandSpec {
  return clientCommandSpec(synopsis, `${description}\n\n${COMMAND_NOTE}`, HOLDER_OPTIONS, HOLDER_OPTION_LINES, { min: 1, max: 1 });
}

/** `<key> [options] -- <command…>`: options are parsed only before the `--`. */
export function parseHolderArgs(spec: CommandSpec, argv: readonly string[]): HolderArgs {
  const separator = argv.indexOf('--');
  const args = parseCommand(spec, separator === -1 ? argv : argv.slice(0, separator));
  const command = separator === -1 ? [] : argv.slice(separator + 1);
  if (command.length === 0) throw new UsageError('missing the command to run, after --', spec.usage);
  const ttl = durationOption(args, 'ttl', '15s', spec.usage);
  if (ttl.ms < 10_000 || ttl.ms > 86_400_000) throw new UsageError('--ttl must be from 10s to 24h', spec.usage);
  return {
    key: args.positionals[0] ?? '',
    command,
    ttl: ttl.text,
    lockDelay: durationOption(args, 'lock-delay', '15s', spec.usage).text,
    graceMs: durationOption(args, 'grace', '10s', spec.usage).ms,
    args,
  };
}

/** Calls `handler` on SIGINT and SIGTERM (instead of dying) until the returned function is called. */
export function onStopSignals(handler: (signal: NodeJS.Signals) => void): () => void {
  process.on('SIGINT', handler).on('SIGTERM', handler);
  return () => process.off('SIGINT', handler).off('SIGTERM', handler);
}

const LOCK_SPEC = holderSpec(
  'lock <key> [--ttl 15s] [--lock-delay 15s] [--grace 10s] -- <command> [args…]',
  'Waits for the lock on <key>, then runs <command> while holding it. If the lock is lost the command gets SIGTERM (SIGKILL after --grace) and the exit code is 1; when the command exits by itself the lock is released and its exit code is returned (128 + n for signal n).',
);

export const lockCommand: Command = {
  summary: 'run a command while holding a lock',
  async run(argv) {
    const { key, command, ttl, lockDelay, graceMs, args } = parseHolderArgs(LOCK_SPEC, argv);
    await using client = await connect(args);
    const interrupted = new AbortController();
    let child: ChildCommand | undefined;
    let stopSignal: NodeJS.Signals | undefined;
    const removeHandlers = onStopSignals((signal) => {
      stopSignal = signal;
      if (child === undefined) interrupted.abort();
      else child.signal(signal);
    });
    try {
      progress(`waiting for the lock on ${key}`);
      const lock = await client.lock(key, { ttl, lockDelay, signal: interrupted.signal }).catch((error: unknown) => {
        if (stopSignal !== undefined) return undefined;
        throw error;
      });
      if (lock === undefined) return signalExitCode(stopSignal ?? 'SIGINT');
      progress(`acquired ${key} (lockIndex ${lock.lockIndex})`);
      const running = ChildCommand.start(command);
      child = running;
      const lost = new Promise<'lost'>((resolve) => lock.signal.addEventListener('abort', () => resolve('lost'), { once: true }));
      const outcome = await Promise.race([running.exitCode, lost]);
      if (outcome === 'lost') {
        progress(`lost the lock on ${key} (${(lock.signal.reason as SwitchboardError).message}): stopping the command`);
        await running.stop(graceMs);
        throw new CliFailure(`lost the lock on ${key}`);
      }
      await lock.release();
      return outcome;
    } finally {
      removeHandlers();
    }
  },
};
