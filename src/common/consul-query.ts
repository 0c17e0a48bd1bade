import { badRequest } from './consul-error.js';
import { parseGoDuration } from './go-duration.js';
import { parseUint64, uint64ToIndex } from './uint64.js';

export type RawQuery = Readonly<Record<string, string | string[] | undefined>>;
export type Consistency = 'default' | 'stale' | 'consistent';

/**
 * Consul's two query idioms (API.md §1.2): flags count by presence whatever their value
 * (`?recurse=false` recurses), value parameters take the first value, and for `index`/`wait`
 * an empty value means absent.
 */
export class ConsulQuery {
  constructor(private readonly raw: RawQuery) {}

  has(name: string): boolean {
    return this.raw[name] !== undefined;
  }

  value(name: string): string | undefined {
    const value = this.raw[name];
    return Array.isArray(value) ? value[0] : value;
  }

  /** `?index=` as a number, 0 when absent (a non-blocking read). */
  index(): number {
    const text = this.value('index');
    if (text === undefined || text === '') return 0;
    const parsed = parseUint64(text);
    if (parsed === undefined) throw badRequest('Invalid index');
    return uint64ToIndex(parsed);
  }

  /** `?wait=` in milliseconds, undefined when absent; negative values are refused, not ignored. */
  waitMs(): number | undefined {
    const text = this.value('wait');
    if (text === undefined || text === '') return undefined;
    const parsed = parseGoDuration(text);
    if (parsed === undefined || parsed < 0) throw badRequest('Invalid wait time');
    return parsed;
  }

  /** A uint64 parameter whose presence selects an operation (`cas`, `flags`): empty is an error. */
  uint64(name: string): bigint | undefined {
    const text = this.value(name);
    if (text === undefined) return undefined;
    const parsed = parseUint64(text);
    if (parsed === undefined) throw badRequest(`Invalid ${name} value ${JSON.stringify(text)}: expected an unsigned 64-bit integer`);
    return parsed;
  }

  consistency(): Consistency {
    const stale = this.has('stale');
    const consistent = this.has('consistent');
    if (stale && consistent) throw badRequest('Cannot specify ?stale with ?consistent, conflicting semantics.');
    if (consistent) return 'consistent';
    return stale ? 'stale' : 'default';
  }
}
