import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Read once from the environment; every setting has a default that works on a laptop. */
export const settings = {
  /** Any Switchboard node. */
  switchboardAddress: process.env.SWITCHBOARD_ADDRESS ?? 'http://127.0.0.1:8500',
  /** The last config seen, so the service can boot while Switchboard is down. */
  configCache: process.env.ORDERS_CONFIG_CACHE ?? join(tmpdir(), 'orders-service.config.json'),
  /** This instance's name: the value of the leader key while it is primary. */
  instance: process.env.ORDERS_INSTANCE ?? `orders-${process.pid}`,
} as const;
