import { Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { Replica } from '../replica/replica.js';

/** Past a deadline before proposing, so the entry's time is past it too despite a little clock skew. */
const EXPIRY_SLACK_MS = 10;
/** Spread over nodes so that usually one proposes and the others see its entry first. */
const EXPIRY_JITTER_MS = 40;
/** After a failed proposal (the log is down) before trying again. */
const RETRY_MS = 1000;

/**
 * This node's part in session expiry (DESIGN.md §1): apply expires a session at the first entry
 * whose time is past its deadline, so all a node has to do is get an entry into the log once the
 * earliest deadline has passed. Every node does it; duplicates are harmless. Deadlines are in log
 * time, so the wait is estimated from the last applied entry's time plus the local time elapsed
 * since it was applied: a node whose clock disagrees with the log's does not spin (an entry
 * still before the deadline just re-arms the timer for the rest).
 *
 * At boot it re-arms sessions after a full outage (no entry for longer than the shortest expiry
 * window): nobody could renew while the cluster was down, so sessions get a fresh window, as
 * Consul re-arms its timers on a leader change, instead of all expiring at once. While any node
 * runs, a window never passes without an entry (a renewal, or that node's expiry proposal), so
 * a node joining a live cluster does not re-arm.
 */
@Injectable()
export class SessionExpiry implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(SessionExpiry.name);
  private timer?: NodeJS.Timeout;
  private timerDeadline?: number;
  /** Local wall-clock ms when the last entry was applied, to estimate the log's time now. */
  private appliedAt = Date.now();
  private stopped = false;

  constructor(private readonly replica: Replica) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.rearmAfterOutage();
    this.replica.onApplied(() => {
      this.appliedAt = Date.now();
      this.schedule();
    });
    this.replica.onReset(() => this.schedule());
    this.schedule();
  }

  beforeApplicationShutdown(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private async rearmAfterOutage(): Promise<void> {
    const state = this.replica.state;
    const shortestExpiry = state.shortestSessionExpiryMs();
    if (shortestExpiry === undefined) return;
    const silentMs = Date.now() - state.time;
    if (silentMs <= shortestExpiry) return;
    this.logger.warn(`no log entry for ${Math.round(silentMs / 1000)} s: re-arming session TTLs, nobody could renew meanwhile`);
    await this.replica.propose({ type: 'session.rearm' });
  }

  private schedule(): void {
    if (this.stopped) return;
    const deadline = this.replica.state.nextSessionDeadline();
    if (deadline === this.timerDeadline && this.timer !== undefined) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.timerDeadline = deadline;
    if (deadline === undefined) return;
    const logNow = this.replica.state.time + (Date.now() - this.appliedAt);
    const delay = Math.max(0, deadline - logNow) + EXPIRY_SLACK_MS + Math.random() * EXPIRY_JITTER_MS;
    this.arm(delay);
  }

  private arm(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      // Another node's entry may have expired it already (then schedule() re-armed for the next).
      if (this.replica.state.nextSessionDeadline() !== this.timerDeadline) return this.schedule();
      this.replica.propose({ type: 'session.expire' }).catch((error: unknown) => {
        this.logger.warn(`could not propose session expiry, retrying in ${RETRY_MS} ms: ${String(error)}`);
        if (!this.stopped && this.timer === undefined) this.arm(RETRY_MS);
      });
    }, delayMs);
    this.timer.unref();
  }
}
