import { type DynamicModule, Logger, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ConsulExceptionFilter } from './common/consul-exception.filter.js';
import { APP_CONFIG, type AppConfig } from './config/app-config.js';
import { HistoryController } from './history/history.controller.js';
import { HistoryService } from './history/history.service.js';
import { KvController } from './kv/kv.controller.js';
import { KvService } from './kv/kv.service.js';
import { FileLog } from './log/file-log.js';
import { RedisLog } from './log/redis-log.js';
import type { ReplicatedLog } from './log/replicated-log.js';
import { Replica } from './replica/replica.js';
import { SessionExpiry } from './session/session-expiry.js';
import { SessionController } from './session/session.controller.js';
import { SessionService } from './session/session.service.js';
import { StatusController } from './status/status.controller.js';
import { StatusService } from './status/status.service.js';
import { TxnController } from './txn/txn.controller.js';
import { TxnService } from './txn/txn.service.js';
import { SubscriptionHub } from './watch/subscription-hub.js';
import { WatchGateway } from './watch/watch.gateway.js';
import { WatchHub } from './watch/watch-hub.js';

/** The embedded file log by default; the shared Redis log when REDIS_URL or REDIS_SENTINELS is set. */
function createLog(config: AppConfig): ReplicatedLog {
  if (config.redis === undefined) return new FileLog({ dataDir: config.dataDir, logger: new Logger(FileLog.name) });
  return new RedisLog({ ...config.redis, nodeName: config.nodeName, logger: new Logger(RedisLog.name) });
}

/**
 * Opens the log and recovers the state: the process's core, which the Nest application is then
 * built around. Done before Nest boots, so a failure here (a locked data dir, Redis unreachable)
 * reaches the caller as one error rather than through Nest's exception handler.
 */
export async function openReplica(config: AppConfig): Promise<Replica> {
  const replica = new Replica(createLog(config), config);
  await replica.start();
  return replica;
}

@Module({})
export class AppModule {
  /** `replica` is opened by openReplica(); Nest closes its log on shutdown, after the HTTP server. */
  static forConfig(config: AppConfig, replica: Replica): DynamicModule {
    return {
      module: AppModule,
      controllers: [KvController, SessionController, TxnController, HistoryController, StatusController],
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: APP_FILTER, useClass: ConsulExceptionFilter },
        { provide: Replica, useValue: replica },
        {
          // Blocking queries exist only once clients connect (after listen), so following the
          // replica from here on misses nothing a waiter could ask for.
          provide: WatchHub,
          inject: [Replica],
          useFactory: (replica: Replica): WatchHub => {
            const hub = new WatchHub();
            replica.onApplied((_entry, outcome) => {
              hub.notify(outcome.events);
              if (outcome.sessionsChanged) hub.notifySessions();
            });
            replica.onReset(() => hub.wakeAll());
            return hub;
          },
        },
        {
          // Subscriptions exist only once clients connect (after listen), so following the
          // replica from here on misses nothing a subscriber could ask for.
          provide: SubscriptionHub,
          inject: [Replica],
          useFactory: (replica: Replica): SubscriptionHub => {
            const subscriptions = new SubscriptionHub(() => replica.state, config.watch);
            replica.onApplied((_entry, outcome) => subscriptions.publish(outcome.events));
            replica.onReset(() => subscriptions.reset());
            return subscriptions;
          },
        },
        WatchGateway,
        KvService,
        HistoryService,
        SessionService,
        SessionExpiry,
        TxnService,
        StatusService,
      ],
    };
  }
}
