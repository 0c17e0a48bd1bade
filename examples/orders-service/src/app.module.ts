import { Module } from '@nestjs/common';
import { SwitchboardConfigModule } from 'switchboard/nest';
import { BillingJob } from './billing-job.js';
import { OrdersService } from './orders.service.js';
import { settings } from './settings.js';

@Module({
  imports: [
    SwitchboardConfigModule.forRoot({
      address: settings.switchboardAddress,
      prefix: 'orders/',
      cacheFile: settings.configCache,
      parse: 'string',
    }),
  ],
  providers: [OrdersService, BillingJob],
})
export class AppModule {}
