import { createHash } from 'node:crypto';
import type { StateMachine } from '../core/state-machine.js';

export interface StateDigest {
  /** The applied index the digest describes. */
  readonly index: number;
  /** Hex sha256 of the state's canonical bytes (serialize()), equal on replicas in the same state. */
  readonly digest: Promise<string>;
}

/** Bytes hashed between two yields: a few milliseconds of work. */
const HASH_STEP_BYTES = 4 * 1024 * 1024;

/**
 * Digests of a replica's state for comparing nodes. Encoding costs CPU in proportion to the
 * state (tens of MB after a few hundred thousand writes: over a second in one go), so it runs in
 * steps with the event loop free in between, and a digest is reused while the state stays at
 * its index (nodes polled until they agree ask again and again for the same one).
 */
export class StateDigests {
  private last?: { readonly machine: StateMachine } & StateDigest;

  of(machine: StateMachine): StateDigest {
    const last = this.last;
    if (last !== undefined && last.machine === machine && last.index === machine.index) return last;
    const current = { machine, index: machine.index, digest: digestInSteps(machine.serializeSteps()) };
    this.last = current;
    return current;
  }
}

async function digestInSteps(steps: Generator<void, Buffer, void>): Promise<string> {
  for (;;) {
    const step = steps.next();
    if (step.done) {
      const hash = createHash('sha256');
      for (let at = 0; at < step.value.length; at += HASH_STEP_BYTES) {
        hash.update(step.value.subarray(at, at + HASH_STEP_BYTES));
        await nextTurn();
      }
      return hash.digest('hex');
    }
    await nextTurn();
  }
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
