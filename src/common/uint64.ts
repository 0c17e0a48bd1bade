const UINT64_MAX = 18446744073709551615n;
const DECIMAL = /^\d+$/;

/** Strict unsigned 64-bit decimal: no sign, exponent, blanks or overflow. */
export function parseUint64(text: string): bigint | undefined {
  if (!DECIMAL.test(text)) return undefined;
  const value = BigInt(text);
  return value <= UINT64_MAX ? value : undefined;
}

/**
 * A uint64 index as a JS number. Real indexes (log seqs) stay far below 2^53; a larger client
 * value only has to compare as "ahead of the server", which MAX_SAFE_INTEGER still does.
 */
export function uint64ToIndex(value: bigint): number {
  return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(value);
}
