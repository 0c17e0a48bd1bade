/**
 * Values the state keeps (live entries, versions, history) are copied into slabs that hold only
 * such values. Node's own pool hands out small buffers as slices of shared 8 KB slabs that every
 * transient Buffer.from and allocUnsafe also cuts from, so a kept 256-byte value pinned a slab of
 * mostly garbage: ~4× the values' size under a write load (the bench's state, after a full GC:
 * 186 MB of array buffers for ~50 MB of values; 48 MB with these slabs). The slabs are as small
 * as the pool's, so a lone long-lived value among short-lived ones pins no more than it did there.
 */
const SLAB_BYTES = 8 * 1024;
/** Larger values get an allocation of their own: a slab is for several values. */
const LARGEST_IN_SLAB = 2 * 1024;

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
