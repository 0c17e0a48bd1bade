import { Controller, Get, Header, Inject } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { Replica } from '../replica/replica.js';
import { WatchHub } from '../watch/watch-hub.js';

const CONSUL_VERSION = '1.17.0';
/** Patroni reads this after a TTL error to correct itself (API.md §7.3). */
const SESSION_TTL_MIN_NS = 10_000_000_000;

/**
 * The status and agent endpoints clients probe at startup or for health: Switchboard presents
 * itself as a one-server cluster that is its own leader.
 */
@Controller('v1')
export class StatusController {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly replica: Replica,
    private readonly hub: WatchHub,
  ) {}

  @Get('status/leader')
  @Header('content-type', 'application/json')
  leader(): string {
    return JSON.stringify(this.address());
  }

  @Get('status/peers')
  @Header('content-type', 'application/json')
  peers(): string {
    return JSON.stringify([this.address()]);
  }

  @Get('agent/self')
  self(): Record<string, unknown> {
    const name = this.config.nodeName;
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
        Transport: 'file',
        AppliedIndex: this.replica.state.index,
        BlockingWaiters: this.hub.size,
      },
    };
  }

  private address(): string {
    return `${this.config.host}:${this.config.port}`;
  }
}
