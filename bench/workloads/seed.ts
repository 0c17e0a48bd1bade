/**
 * Seeds a writable target with every key the workloads touch, then probes that each selected
 * workload reads back what was written, so a half-built server fails loudly here instead of
 * producing fast 404s.
 */
import type { KvClientFactory } from '../drivers/kv-client.js';
import {
  COUNTER_KEY,
  fixedValue,
  ONE_KEY,
  ONE_VALUE,
  PUT_KEYS,
  putKey,
  putValue,
  READ_VALUE_BYTES,
  RECURSE_KEYS,
  RECURSE_PREFIX,
  recurseKey,
} from './fixtures.js';
import type { WorkloadId } from './workload.js';

const SEED_CONCURRENCY = 32;

export async function seed(factory: KvClientFactory): Promise<void> {
  const writes: [string, Buffer][] = [
    [ONE_KEY, ONE_VALUE],
    [COUNTER_KEY, Buffer.from('0')],
    ...Array.from({ length: RECURSE_KEYS }, (_, i): [string, Buffer] => [recurseKey(i), fixedValue(recurseKey(i), READ_VALUE_BYTES)]),
    ...Array.from({ length: PUT_KEYS }, (_, i): [string, Buffer] => [putKey(i), putValue(-1 - i)]),
  ];
  const client = factory(SEED_CONCURRENCY);
  try {
    let next = 0;
    const writer = async (): Promise<void> => {
      for (let w = writes[next++]; w; w = writes[next++]) await client.put(w[0], w[1]);
    };
    await Promise.all(Array.from({ length: SEED_CONCURRENCY }, writer));
  } finally {
    await client.close();
  }
}

/**
 * Throws with a reason when the target does not serve `workload` correctly. A target with canned
 * answers (not `seeded`) has nothing to read back: its PUT must only answer `true`.
 */
export async function probe(factory: KvClientFactory, workload: WorkloadId, seeded: boolean): Promise<void> {
  const client = factory(1);
  try {
    switch (workload) {
      case 'get': {
        const value = await client.readValue(ONE_KEY);
        if (!value?.equals(ONE_VALUE)) throw new Error(`${ONE_KEY} reads back ${value ? JSON.stringify(value.toString()) : 'as missing'}`);
        break;
      }
      case 'recurse': {
        const n = await client.countPrefix(RECURSE_PREFIX);
        if (n !== RECURSE_KEYS) throw new Error(`prefix ${RECURSE_PREFIX} holds ${n} keys, expected ${RECURSE_KEYS}`);
        break;
      }
      case 'put': {
        if (!seeded) {
          await client.put(putKey(0), putValue(0));
          break;
        }
        const value = await client.readValue(putKey(0));
        if (!value?.equals(putValue(-1))) throw new Error(`${putKey(0)} does not read back what was written`);
        break;
      }
      case 'cas': {
        const c = await client.readCounter(COUNTER_KEY);
        if (!(await client.cas(COUNTER_KEY, c.version, Buffer.from(String(c.value))))) {
          throw new Error(`CAS at the version just read (${c.version}) answered false`);
        }
        const stale = await client.cas(COUNTER_KEY, '1', Buffer.from(String(c.value)));
        if (stale && c.version !== '1') throw new Error('CAS with a stale version (1) answered true');
        break;
      }
    }
  } finally {
    await client.close();
  }
}
