import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { ConsulHttpError } from '../common/consul-error.js';
import { sessionJson, sessionsJson } from '../common/consul-json.js';
import type { ConsulQuery } from '../common/consul-query.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import type { Session } from '../core/sessions.js';
import type { StateMachine } from '../core/state-machine.js';
import type { LogHealth } from '../log/replicated-log.js';
import { Replica } from '../replica/replica.js';
import { blockingQuery } from '../watch/blocking-query.js';
import { WatchHub } from '../watch/watch-hub.js';
import { parseSessionCreate, parseSessionId } from './session-request.js';

export interface SessionReadAnswer {
  readonly json: string;
  readonly index: number;
}

/** Which sessions a read returns: one by id, those of a node, or all. */
export type SessionSelector = { readonly id: string } | { readonly node: string } | 'all';

/** Consul's session endpoints (API.md §6) on top of the replica. */
@Injectable()
export class SessionService {
  constructor(
    private readonly replica: Replica,
    private readonly hub: WatchHub,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** The id is minted here, by the proposing node, and travels in the command (apply draws nothing). */
  async create(body: Buffer): Promise<string> {
    const settings = parseSessionCreate(body, this.config.nodeName);
    const id = randomUUID();
    const expiryMs = settings.ttlMs * this.config.sessionTtlMultiplier;
    const result = await this.replica.propose({ type: 'session.create', id, ...settings, expiryMs });
    if (!result.ok) throw new Error(`session id ${id} was already taken`);
    return JSON.stringify({ ID: id });
  }

  /** Unknown ids are fine: Consul answers `true` for a session that is already gone. */
  async destroy(rawId: string): Promise<void> {
    await this.replica.propose({ type: 'session.destroy', id: parseSessionId(rawId) });
  }

  /** Restarts the session's expiry window; Consul's 404 text for an unknown (or expired) id. */
  async renew(rawId: string): Promise<string> {
    const id = parseSessionId(rawId);
    const result = await this.replica.propose({ type: 'session.renew', id });
    if (result.session === undefined) throw new ConsulHttpError(404, `Session id '${id}' not found`);
    return `[${sessionJson(result.session)}]`;
  }

  /** info/<id>, node/<node> and list: blocking-capable, indexed by the sessions table. */
  async read(selector: SessionSelector, query: ConsulQuery, signal: AbortSignal): Promise<SessionReadAnswer> {
    const minIndex = query.index();
    const waitMs = query.waitMs();
    const consistent = query.consistency() === 'consistent';
    const select = this.selectorFilter(selector);
    // Read the state at each run: a resync may replace the machine while a query blocks.
    const run = (): SessionReadAnswer => {
      const state = this.replica.state;
      return { json: sessionsJson(select(state)), index: state.sessionsIndex() };
    };
    if (consistent) await this.replica.readBarrier();
    if (minIndex === 0) return run();
    return blockingQuery(this.hub, { minIndex, waitMs, target: { table: 'sessions' }, run, signal });
  }

  health(): LogHealth {
    return this.replica.health();
  }

  private selectorFilter(selector: SessionSelector): (state: StateMachine) => Session[] {
    if (selector === 'all') return (state) => state.sessions();
    if ('id' in selector) {
      const id = parseSessionId(selector.id);
      return (state) => {
        const session = state.session(id);
        return session === undefined ? [] : [session];
      };
    }
    if (selector.node === '') throw new ConsulHttpError(400, 'Missing node name');
    const node = selector.node.toLowerCase();
    return (state) => state.sessions().filter((session) => session.node.toLowerCase() === node);
  }
}
