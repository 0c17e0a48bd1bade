import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { Replica } from '../replica/replica.js';
import { SubscriptionHub } from '../watch/subscription-hub.js';
import { WatchHub } from '../watch/watch-hub.js';
import { StateDigests } from './state-digest.js';

const CONSUL_VERSION = '1.17.0';
/** Patroni reads this after a TTL error to correct itself (API.md §7.3). */
const SESSION_TTL_MIN_NS = 10_000_000_000;

/**
 * The status and agent endpoints clients probe at startup or for health. Every node serves
 * reads and writes, so each presents itself as the leader; the peers are the live nodes.
 */
@Injectable()
export class StatusService {
  private readonly digests = new StateDigests();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly replica: Replica,
    private readonly hub: WatchHub,
    private readonly subscriptions: SubscriptionHub,
  ) {}

  leader(): string {
    return JSON.stringify(this.address());
  }

  /** LogUnavailableError (503) when the log cannot say who is alive. */
  async peers(): Promise<string> {
    return JSON.stringify((await this.replica.members()).map((m) => m.address));
  }

  /**
   * `withDigest` adds a hash of the serialized state, equal on every node at the same index (the
   * multi-node tests compare it). It is opt-in because it encodes the whole state: clients that
   * probe agent/self at startup or for health must stay cheap.
   */
  async self(withDigest: boolean): Promise<Record<string, unknown>> {
    const name = this.config.nodeName;
    const health = this.replica.health();
    // Without a connection these would only wait out the log's timeout before failing.
    const [logIndex, members] = health.connected
      ? await Promise.all([this.replica.logIndex().catch(() => null), this.replica.members().catch(() => null)])
      : [null, null];
    // After the awaits, so that the lag is measured against the state the digest describes.
    const applied = this.replica.state.index;
    const stateDigest = withDigest ? await this.digests.of(this.replica.state).digest : undefined;
    return {
      Config: {
        Datacenter: 'dc1',
        PrimaryDatacenter: 'dc1',
        NodeName: name,
        NodeID: '',
        Revision: '',
        Server: true,
        Version: CONSUL_VERSION,
        SessionTTLMin: SESSION_TTL_MIN_NS,
      },
      DebugConfig: { Datacenter: 'dc1', NodeName: name, SessionTTLMin: '10s' },
      Coord: null,
      Member: {
        Name: name,
        Addr: this.config.host,
        Port: 8301,
        Tags: { role: 'consul', dc: 'dc1', port: '8300', build: `${CONSUL_VERSION}:switchboard`, vsn: '2' },
        Status: 1,
      },
      Stats: { consul: { leader: 'true', server: 'true' }, build: { version: CONSUL_VERSION } },
      Meta: {},
      Switchboard: {
        NodeName: name,
        Address: this.address(),
        Transport: this.config.redis === undefined ? 'file' : 'redis',
        AppliedIndex: applied,
        LogIndex: logIndex,
        // A write applied since the log was asked is not lag.
        Lag: logIndex === null ? null : Math.max(0, logIndex - applied),
        KnownLeader: health.connected,
        LastContactMs: health.lastContactMs,
        Members: members === null ? null : members.map((m) => m.name),
        BlockingWaiters: this.hub.size,
        WatchSubscriptions: this.subscriptions.subscriptionCount,
        WatchBufferedBytes: this.subscriptions.bufferedBytes,
        StateDigest: stateDigest,
      },
    };
  }

  private address(): string {
    return this.replica.address ?? `${this.config.host}:${this.config.port}`;
  }
}
