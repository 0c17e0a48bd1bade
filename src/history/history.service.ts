import { Injectable } from '@nestjs/common';
import { badRequest, ConsulHttpError } from '../common/consul-error.js';
import { changeEventJson, kvVersionJson } from '../common/consul-json.js';
import type { ConsulQuery } from '../common/consul-query.js';
import type { ChangeEvent } from '../core/entry.js';
import { CompactedError } from '../core/state-machine.js';
import { Replica } from '../replica/replica.js';
import { blockingQuery } from '../watch/blocking-query.js';
import { WatchHub } from '../watch/watch-hub.js';

/**
 * Change history beyond Consul: every change after an index, never a silent gap. With `wait`
 * the read blocks until at least one event exists.
 */
@Injectable()
export class HistoryService {
  constructor(
    private readonly replica: Replica,
    private readonly hub: WatchHub,
  ) {}

  async events(key: string, query: ConsulQuery, signal: AbortSignal): Promise<string> {
    const recurse = query.has('recurse');
    if (key === '' && !recurse) throw badRequest('Missing key name');
    const after = query.index();
    const waitMs = query.waitMs();
    const run = (): { json: string; index: number } => {
      const state = this.replica.state;
      const events = this.readEvents(after, key, recurse);
      const json = `{"Index":${Math.max(1, state.index)},"Events":[${events.map(changeEventJson).join(',')}]}`;
      return { json, index: events.at(-1)?.index ?? after };
    };
    if (waitMs === undefined) return run().json;
    return (await blockingQuery(this.hub, { minIndex: after, waitMs, target: { key, recurse }, run, signal })).json;
  }

  versions(key: string): string {
    if (key === '') throw badRequest('Missing key name');
    const versions = this.replica.state.versions(key);
    if (versions.length === 0) throw new ConsulHttpError(404, `no versions of key ${JSON.stringify(key)} are retained`);
    return `[${versions.map(kvVersionJson).join(',')}]`;
  }

  private readEvents(after: number, key: string, recurse: boolean): ChangeEvent[] {
    try {
      return this.replica.state.history(after, key, recurse);
    } catch (error) {
      if (error instanceof CompactedError) {
        throw new ConsulHttpError(410, JSON.stringify({ Error: 'compacted', OldestIndex: error.oldestIndex }), {
          'content-type': 'application/json',
        });
      }
      throw error;
    }
  }
}
