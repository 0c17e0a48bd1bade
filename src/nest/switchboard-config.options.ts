import type { FactoryProvider, ModuleMetadata } from '@nestjs/common';

/** How a value (bytes on the server) becomes what `SwitchboardConfig.get()` returns. */
export type ConfigValueFormat = 'json' | 'yaml' | 'string';

export interface SwitchboardConfigOptions {
  /** Base URL of any Switchboard node. @default 'http://127.0.0.1:8500' */
  readonly address?: string;
  /** ACL token, sent with every request. */
  readonly token?: string;
  /** The prefix kept live, normally ending in `/` (`orders/`); keys are read relative to it. */
  readonly prefix: string;
  /** Where the last good state is kept so the app can boot while the server is down; without it boot needs the server. */
  readonly cacheFile?: string;
  /** How every value under the prefix is parsed. @default 'string' (UTF-8 text) */
  readonly parse?: ConfigValueFormat;
  /** How long boot waits for the server before serving the cache. @default 5000 */
  readonly bootTimeoutMs?: number;
}

/** Injection token of the module's SwitchboardConfigOptions. */
export const SWITCHBOARD_CONFIG_OPTIONS = 'SWITCHBOARD_CONFIG_OPTIONS';

/** forRootAsync(): the options come from a factory that may inject providers of `imports`. */
export interface SwitchboardConfigAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  readonly inject?: FactoryProvider['inject'];
  readonly useFactory: (...args: never[]) => SwitchboardConfigOptions | Promise<SwitchboardConfigOptions>;
}
