import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { filter, type Subscription } from 'rxjs';
import { SwitchboardConfig, type SwitchboardConfigChange } from 'switchboard/nest';

/**
 * Stands in for the orders business logic: it needs its database URL at boot and follows it
 * live (where a real service would reconnect its pool).
 */
@Injectable()
export class OrdersService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(OrdersService.name);
  private subscription: Subscription | undefined;

  constructor(private readonly config: SwitchboardConfig) {}

  onModuleInit(): void {
    const databaseUrl = this.config.get<string>('db_url');
    // Without a database the service cannot work: fail boot rather than start half-configured.
    if (databaseUrl === undefined) throw new Error('orders/db_url is not set in Switchboard');
    this.logger.log(`database ${databaseUrl} (config from ${this.config.source} at index ${this.config.index})`);
    this.subscription = this.config.changes$
      .pipe(filter((change): change is SwitchboardConfigChange<string> => change.key === 'db_url'))
      .subscribe(({ value, previous, index }) => {
        if (value === undefined) this.logger.warn(`orders/db_url was deleted (index ${index}); keeping ${previous}`);
        else this.logger.log(`database changed to ${value} (index ${index}); reconnecting`);
      });
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
  }
}
