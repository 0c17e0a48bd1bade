import type { Command } from '../args.js';
import { ChildCommand, signalExitCode } from '../child-command.js';
import { connect } from '../connection.js';
import { progress } from '../output.js';
import { holderSpec, onStopSignals, parseHolderArgs } from './lock.js';

/**
 * `elect <key> -- <command…>`: primary/standby on the SDK's elect(). The command runs while this
 * process is primary, is stopped when it is demoted (SIGTERM, SIGKILL after --grace), and starts
 * again on re-election. The CLI ends when the command exits by itself while primary (with its
 * code; the lock is released) or on SIGINT/SIGTERM (forwarded to a running command).
 */

const ELECT_SPEC = holderSpec(
  'elect <key> [--ttl 15s] [--lock-delay 15s] [--grace 10s] -- <command> [args…]',
  'Takes part in the election on <key>: runs <command> while elected (primary), stops it when demoted (SIGTERM, SIGKILL after --grace), and starts it again when elected again. Exits with the command\'s code when it exits by itself while primary (128 + n for signal n).',
);

export const electCommand: Command = {
  summary: 'run a command while elected primary, as a standby otherwise',
  async run(argv) {
    const { key, command, ttl, lockDelay, graceMs, args } = parseHolderArgs(ELECT_SPEC, argv);
    await using client = await connect(args);
    const stop = new AbortController();
    let child: ChildCommand | undefined;
    let exitCode: number | undefined;
    const removeHandlers = onStopSignals((signal) => {
      if (child !== undefined) return child.signal(signal);
      exitCode ??= signalExitCode(signal);
      stop.abort();
    });
    try {
      progress(`waiting for the lock on ${key}`);
      await client.elect(key, {
        ttl,
        lockDelay,
        signal: stop.signal,
        onElected: (lock) => {
          progress(`acquired ${key} (lockIndex ${lock.lockIndex}): starting the command`);
          const started = ChildCommand.start(command);
          child = started;
          void started.exitCode.then((code) => {
            // A command stopped on demotion is no longer `child`: only one that ended by itself ends the election.
            if (child !== started) return;
            child = undefined;
            exitCode = code;
            stop.abort();
          });
        },
        onDemoted: async () => {
          const running = child;
          child = undefined;
          if (running === undefined) return;
          progress(`lost the lock on ${key}: stopping the command`);
          await running.stop(graceMs);
          progress(`waiting for the lock on ${key}`);
        },
      });
      return exitCode ?? 0;
    } finally {
      removeHandlers();
    }
  },
};
