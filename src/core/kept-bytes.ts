/**
 * Values the state keeps (live entries, versions, history) are copied into slabs that hold only
 * such values. Node's own pool hands out small buffers as slices of shared 8 KB slabs that every
 * transient Buffer.from and allocUnsafe also cuts from, so one kept 256-byte value pinned a slab
 * of mostly garbage: ~3–5× the values' size in memory under a write load.
 */
const SLAB_BYTES = 64 * 1024;
/** Larger values get an allocation of their own: a slab is for many values. */
const LARGEST_IN_SLAB = 4 * 1024;

const EMPTY = Buffer.alloc(0);
let slab = Buffer.allocUnsafeSlow(0);
let used = 0;

/** A copy of `bytes` for the state to keep, independent of whatever buffer `bytes` is a view of. */
export function keptCopy(bytes: Uint8Array): Buffer {
  const length = bytes.length;
  if (length === 0) return EMPTY;
  if (length > LARGEST_IN_SLAB) {
    const own = Buffer.allocUnsafeSlow(length);
    own.set(bytes);
    return own;
  }
  if (used + length > slab.length) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    used = 0;
  }
  const copy = slab.subarray(used, used + length);
  copy.set(bytes);
  // 8-byte aligned, as Node's pool does.
  used += (length + 7) & ~7;
  return copy;
}
