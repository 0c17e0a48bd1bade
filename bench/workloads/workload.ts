/**
 * The four workloads, written once against KvClient so every target runs the same loop:
 *
 * | id      | label       | one op                                                           |
 * |---------|-------------|------------------------------------------------------------------|
 * | get     | get-one     | read `bench/one` (64-byte value)                                 |
 * | recurse | recurse-100 | read the 100 keys under `bench/tree/` with their values         |
 * | put     | put-256B    | write 256 fresh bytes to the next of 10,000 keys (round robin)   |
 * | cas     | cas-incr    | one increment of `bench/counter`: read → CAS(version, value+1),  |
 * |         |             | re-read and retry on conflict; latency covers the retries        |
 *
 * After a CAS run the counter must equal the number of increments that succeeded, warm-up
 * included: anything less is a lost update, anything more a phantom one.
 */
import type { LoopResult, Op } from '../drivers/closed-loop.js';
import type { KvClient } from '../drivers/kv-client.js';
import { COUNTER_KEY, ONE_KEY, putKey, putValue, RECURSE_PREFIX } from './fixtures.js';

export const WORKLOAD_IDS = ['get', 'recurse', 'put', 'cas'] as const;
export type WorkloadId = (typeof WORKLOAD_IDS)[number];

export interface Verification {
  ok: boolean;
  detail: string;
  finalValue?: number;
  lostUpdates?: number;
}

export interface Workload {
  id: WorkloadId;
  label: string;
  /** Resets whatever the run depends on (called before every run). */
  prepare?(client: KvClient): Promise<void>;
  /** A fresh op for one run. */
  op(client: KvClient): Op;
  /** Checks the run's invariant once every worker has stopped. */
  verify?(client: KvClient, result: LoopResult): Promise<Verification>;
}

/** The client a worker uses: its own node's on a multi-node target, else the one client. */
const clientOf = (client: KvClient, worker: number): KvClient => client.forWorker?.(worker) ?? client;

const getOne: Workload = {
  id: 'get',
  label: 'get-one',
  op: (client) => (worker) => clientOf(client, worker).getOne(ONE_KEY),
};

const recurse: Workload = {
  id: 'recurse',
  label: 'recurse-100',
  op: (client) => (worker) => clientOf(client, worker).getPrefix(RECURSE_PREFIX),
};

const put: Workload = {
  id: 'put',
  label: 'put-256B',
  op: (client) => {
    let n = 0;
    return (worker) => {
      const i = n++;
      return clientOf(client, worker).put(putKey(i), putValue(i));
    };
  },
};

const casIncrement: Workload = {
  id: 'cas',
  label: 'cas-incr',
  prepare: (client) => client.put(COUNTER_KEY, Buffer.from('0')),
  op: (client) => async (worker, stopAt) => {
    const own = clientOf(client, worker);
    let conflicts = 0;
    for (;;) {
      const current = await own.readCounter(COUNTER_KEY);
      if (await own.cas(COUNTER_KEY, current.version, Buffer.from(String(current.value + 1)))) {
        return { completed: true, conflicts };
      }
      conflicts++;
      if (performance.now() >= stopAt) return { completed: false, conflicts };
    }
  },
  verify: async (client, result) => {
    const finalValue = (await client.readCounter(COUNTER_KEY)).value;
    const lostUpdates = result.totalCompleted - finalValue;
    if (result.errors > 0) {
      // A CAS whose reply was lost may or may not have been applied: the count is not decisive.
      return {
        ok: false,
        finalValue,
        lostUpdates,
        detail: `undecided: ${result.errors} failed requests; counter ${finalValue}, successes ${result.totalCompleted}`,
      };
    }
    if (lostUpdates === 0) {
      return { ok: true, finalValue, lostUpdates, detail: `counter ${finalValue} = successes ${result.totalCompleted}` };
    }
    const what = lostUpdates > 0 ? `${lostUpdates} lost updates` : `${-lostUpdates} phantom updates`;
    return { ok: false, finalValue, lostUpdates, detail: `${what}: counter ${finalValue}, successes ${result.totalCompleted}` };
  },
};

export const WORKLOADS: Record<WorkloadId, Workload> = { get: getOne, recurse, put, cas: casIncrement };
