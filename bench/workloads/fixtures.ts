/**
 * The data every target is seeded with, shared by the workloads and by the bare Nest app (which
 * must answer byte-for-byte what Switchboard answers for the single key).
 *
 * Keys live under `bench/` so a run against a developer's store is easy to spot and delete.
 */

/** Key read by the single-key GET workload. */
export const ONE_KEY = 'bench/one';

/** Prefix read by the recurse workload; holds exactly RECURSE_KEYS keys. */
export const RECURSE_PREFIX = 'bench/tree/';
export const RECURSE_KEYS = 100;

/** Keys overwritten by the PUT workload, pre-seeded so every PUT is an update of a live key. */
export const PUT_KEYS = 10_000;
export const PUT_VALUE_BYTES = 256;

/** The counter incremented by the CAS workload; reset to "0" before each CAS run. */
export const COUNTER_KEY = 'bench/counter';

/** Size of the values read by the two GET workloads: a typical small config value. */
export const READ_VALUE_BYTES = 64;

export function recurseKey(i: number): string {
  return `${RECURSE_PREFIX}k${String(i).padStart(3, '0')}`;
}

export function putKey(i: number): string {
  return `bench/put/${String(i % PUT_KEYS).padStart(5, '0')}`;
}

/** A deterministic printable value of `bytes` bytes whose first bytes spell `tag`. */
export function fixedValue(tag: string, bytes: number): Buffer {
  const buf = Buffer.alloc(bytes, 'x');
  buf.write(`${tag}:`, 0, 'latin1');
  return buf;
}

/**
 * The value of the n-th PUT: 256 bytes that differ from every earlier write of the same key, so a
 * server's "identical value is a no-op" shortcut (API.md §5.3.1) never flatters the PUT figure.
 */
export function putValue(n: number): Buffer {
  return fixedValue(`put-${n}`, PUT_VALUE_BYTES);
}

export const ONE_VALUE = fixedValue(ONE_KEY, READ_VALUE_BYTES);
