import { Injectable } from '@nestjs/common';
import type { Command, CommandResult } from '../core/commands.js';
import { badRequest, ConsulHttpError } from '../common/consul-error.js';
import { kvEntriesJson, kvEntryJson } from '../common/consul-json.js';
import type { ConsulQuery } from '../common/consul-query.js';
import { uint64ToIndex } from '../common/uint64.js';
import type { LogHealth } from '../log/replicated-log.js';
import { Replica } from '../replica/replica.js';
import { blockingQuery } from '../watch/blocking-query.js';
import { isSessionId } from '../session/session-request.js';
import { WatchHub } from '../watch/watch-hub.js';

export type KvReadAnswer =
  | { readonly kind: 'json'; readonly json: string; readonly index: number }
  | { readonly kind: 'raw'; readonly value: Buffer; readonly index: number }
  | { readonly kind: 'missing'; readonly index: number };

/** At most one of these selects the operation (API.md §5.3); `rollback` combines with `cas` only. */
const EXCLUSIVE_PARAMETERS = ['cas', 'acquire', 'release'] as const;

/** Consul's KV endpoint rules (API.md §5) on top of the replica. */
@Injectable()
export class KvService {
  /** The latest write proposed by this node per key, until it is applied (or fails). */
  private readonly writesInFlight = new Map<string, Promise<CommandResult>>();

  constructor(
    private readonly replica: Replica,
    private readonly hub: WatchHub,
  ) {}

  /**
   * GET: dispatch order keys → recurse → single key; every mode can block on `?index`.
   * `?consistent` first passes the replica's read barrier; default and `?stale` read local state.
   */
  read(key: string, query: ConsulQuery, signal: AbortSignal): Promise<KvReadAnswer> | KvReadAnswer {
    const minIndex = query.index();
    const waitMs = query.waitMs();
    const consistent = query.consistency() === 'consistent';
    const run = this.readerFor(key, query);
    const target = { key, recurse: query.has('keys') || query.has('recurse') };
    const answer = (): Promise<KvReadAnswer> | KvReadAnswer =>
      minIndex === 0 ? run() : blockingQuery(this.hub, { minIndex, waitMs, target, run, signal });
    return consistent ? this.replica.readBarrier().then(answer) : answer();
  }

  /** Feeds X-Consul-KnownLeader / X-Consul-LastContact: how this node's view of the log stands. */
  health(): LogHealth {
    return this.replica.health();
  }

  async write(key: string, query: ConsulQuery, rawQuery: string, body: Buffer): Promise<boolean> {
    if (key === '') throw badRequest('Missing key name');
    const selected = EXCLUSIVE_PARAMETERS.filter((name) => query.has(name));
    if (selected.length > 1 || (query.has('rollback') && selected.some((name) => name !== 'cas'))) {
      throw badRequest(`Conflicting flags: ${rawQuery}`);
    }
    const flags = query.uint64('flags') ?? 0n;
    if (query.has('acquire')) return this.lock(key, 'kv.lock', query.value('acquire'), body, flags);
    if (query.has('release')) return this.lock(key, 'kv.unlock', query.value('release'), body, flags);
    const cas = this.casIndex(query);
    const rollback = query.uint64('rollback');
    const refused = this.casCannotSucceed(key, cas);
    // `await` only when there is something to wait for (see casCannotSucceed).
    if (refused === true || (refused !== false && (await refused))) return false;
    const command: Command =
      rollback === undefined
        ? { type: 'kv.set', key, value: body, flags, ...(cas === undefined ? {} : { cas }) }
        : { type: 'kv.rollback', key, version: uint64ToIndex(rollback), ...(cas === undefined ? {} : { cas }) };
    const result = await this.proposeOnKey(key, command);
    if (result.missing !== undefined) throw new ConsulHttpError(404, result.missing);
    return result.ok;
  }

  /**
   * `?acquire=` / `?release=` (API.md §5.3.3–4). A session that does not exist is Consul's 500
   * `invalid session "<id>"`, the one error body lock clients match on; a malformed id never
   * names a session, so it is refused up front with 400 and the same text.
   */
  private async lock(key: string, type: 'kv.lock' | 'kv.unlock', session: string | undefined, value: Buffer, flags: bigint): Promise<boolean> {
    if (session === undefined || session === '') throw badRequest('missing session');
    if (!isSessionId(session)) throw badRequest(`invalid session ${JSON.stringify(session)}`);
    const result = await this.proposeOnKey(key, { type, key, value, flags, session });
    if (result.invalidSession !== undefined) throw new ConsulHttpError(500, `invalid session ${JSON.stringify(session)}`);
    return result.ok;
  }

  async delete(key: string, query: ConsulQuery, rawQuery: string): Promise<boolean> {
    const recurse = query.has('recurse');
    if (recurse && query.has('cas')) throw badRequest(`Conflicting flags: ${rawQuery}`);
    if (recurse) return (await this.replica.propose({ type: 'kv.delete-tree', prefix: key })).ok;
    if (key === '') throw badRequest('Missing key name');
    const cas = this.casIndex(query);
    const refused = this.casCannotSucceed(key, cas);
    if (refused === true || (refused !== false && (await refused))) return false;
    return (await this.proposeOnKey(key, { type: 'kv.delete', key, ...(cas === undefined ? {} : { cas }) })).ok;
  }

  /**
   * Answers a CAS that cannot succeed without a log append, so a contended key does not cost one
   * fsynced entry per conflict. A write to the key still in flight from this node is waited for
   * first: it usually moves the key past `cas` (then this one is refused here too); if it does
   * not, this CAS goes to the log as usual. Waiting only delays: the verdict always comes from
   * applied state (see StateMachine.casIsStale). With nothing in flight the answer is given
   * synchronously, so the check and the caller's proposeOnKey happen in one tick and two CAS
   * arriving together cannot both miss each other.
   */
  private casCannotSucceed(key: string, cas: number | undefined): boolean | Promise<boolean> {
    if (cas === undefined) return false;
    const earlier = this.writesInFlight.get(key);
    const check = (): boolean => this.replica.state.casIsStale(key, cas);
    return earlier === undefined ? check() : earlier.then(check, check);
  }

  /** Proposes a write to one key, remembered as that key's latest write in flight until applied. */
  private proposeOnKey(key: string, command: Command): Promise<CommandResult> {
    const proposed = this.replica.propose(command);
    this.writesInFlight.set(key, proposed);
    const forget = (): void => {
      if (this.writesInFlight.get(key) === proposed) this.writesInFlight.delete(key);
    };
    proposed.then(forget, forget);
    return proposed;
  }

  private casIndex(query: ConsulQuery): number | undefined {
    const cas = query.uint64('cas');
    return cas === undefined ? undefined : uint64ToIndex(cas);
  }

  private readerFor(key: string, query: ConsulQuery): () => KvReadAnswer {
    // Read the state at each run: a resync may replace the machine while a query blocks.
    const replica = this.replica;
    if (query.has('keys')) {
      const separator = query.value('separator') ?? query.value('seperator');
      return () => {
        const keys = replica.state.keys(key, separator || undefined);
        const index = replica.state.prefixIndex(key);
        // The root listing is never a 404, any other empty listing is (API.md §5.2.3).
        if (keys.length === 0 && key !== '') return { kind: 'missing', index };
        return { kind: 'json', json: JSON.stringify(keys), index };
      };
    }
    if (query.has('recurse')) {
      return () => {
        const entries = replica.state.list(key);
        const index = replica.state.prefixIndex(key);
        return entries.length === 0 ? { kind: 'missing', index } : { kind: 'json', json: kvEntriesJson(entries), index };
      };
    }
    if (key === '') throw badRequest('Missing key name');
    const raw = query.has('raw');
    return () => {
      const entry = replica.state.get(key);
      if (!entry) return { kind: 'missing', index: replica.state.keyIndex(key) };
      const index = entry.modifyIndex;
      return raw ? { kind: 'raw', value: entry.value, index } : { kind: 'json', json: `[${kvEntryJson(entry)}]`, index };
    };
  }
}
