import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { type Lock, Switchboard } from 'switchboard';
import { settings } from './settings.js';

const LEADER_KEY = 'service/orders/leader';
const BILLING_EVERY_MS = 5000;

/**
 * A job only the primary instance may run. Every instance stands in the election; the one
 * holding the leader key runs the job, and stops it as soon as it loses the key. A stalled
 * primary can lose the key while still running, so each run carries the fencing token.
 */
@Injectable()
export class BillingJob implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(BillingJob.name);
  private readonly leaving = new AbortController();
  private election: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly switchboard: Switchboard) {}

  onApplicationBootstrap(): void {
    this.logger.log(`${settings.instance} standing for primary on ${LEADER_KEY}`);
    this.election = this.switchboard
      .elect(LEADER_KEY, {
        value: settings.instance,
        // Short so the demo's failover after kill -9 takes seconds: ttl × 2 + lockDelay at most.
        ttl: '10s',
        lockDelay: '5s',
        signal: this.leaving.signal,
        onElected: (lock) => this.start(lock),
        onDemoted: (reason) => this.stop(reason),
      })
      .catch((error: unknown) => this.logger.error(`election failed, billing will not run here: ${String(error)}`));
  }

  /** Steps down (releasing the key, so a standby takes over at once) before the client closes. */
  async onModuleDestroy(): Promise<void> {
    this.leaving.abort();
    await this.election;
  }

  private start(lock: Lock): void {
    this.logger.log(`${settings.instance} is primary (fencing token ${lock.lockIndex}): billing every ${BILLING_EVERY_MS / 1000} s`);
    this.timer = setInterval(() => this.logger.log(`billing run (fencing token ${lock.lockIndex})`), BILLING_EVERY_MS);
  }

  private stop(reason: unknown): void {
    clearInterval(this.timer);
    this.logger.log(`${settings.instance} is no longer primary (${reason instanceof Error ? reason.message : String(reason)}): billing stopped`);
  }
}
