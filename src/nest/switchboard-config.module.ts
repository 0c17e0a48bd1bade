import { type DynamicModule, type FactoryProvider, Inject, Logger, Module, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { Switchboard } from '../client/index.js';
import { DEFAULT_ADDRESS, SwitchboardConfig } from './switchboard-config.js';
import { SWITCHBOARD_CONFIG_OPTIONS, type SwitchboardConfigAsyncOptions, type SwitchboardConfigOptions } from './switchboard-config.options.js';

/** The SDK client, shared with the app (inject `Switchboard` for locks, elect(), writes). */
const clientProvider: FactoryProvider<Switchboard> = {
  provide: Switchboard,
  inject: [SWITCHBOARD_CONFIG_OPTIONS],
  useFactory: (options: SwitchboardConfigOptions) => {
    const logger = new Logger('Switchboard');
    return new Switchboard({
      address: options.address ?? DEFAULT_ADDRESS,
      ...(options.token === undefined ? {} : { token: options.token }),
      logger: { warn: (message) => logger.warn(message) },
    });
  },
};

/** Async: the application does not finish booting until the prefix is loaded (or boot fails). */
const configProvider: FactoryProvider<SwitchboardConfig> = {
  provide: SwitchboardConfig,
  inject: [SWITCHBOARD_CONFIG_OPTIONS, Switchboard],
  useFactory: (options: SwitchboardConfigOptions, client: Switchboard) => SwitchboardConfig.open(client, options),
};

/**
 * Live configuration from Switchboard for a Nest app: import it once, at the root, with
 * `forRoot({prefix, ...})` or `forRootAsync({imports, inject, useFactory})`, then inject
 * `SwitchboardConfig` (and `Switchboard`, the client) anywhere. Global.
 */
@Module({})
export class SwitchboardConfigModule implements OnApplicationShutdown {
  constructor(@Inject(Switchboard) private readonly client: Switchboard) {}

  static forRoot(options: SwitchboardConfigOptions): DynamicModule {
    return SwitchboardConfigModule.with({ provide: SWITCHBOARD_CONFIG_OPTIONS, useValue: options }, []);
  }

  static forRootAsync(options: SwitchboardConfigAsyncOptions): DynamicModule {
    return SwitchboardConfigModule.with(
      { provide: SWITCHBOARD_CONFIG_OPTIONS, useFactory: options.useFactory, inject: options.inject ?? [] },
      options.imports ?? [],
    );
  }

  private static with(optionsProvider: Provider, imports: NonNullable<SwitchboardConfigAsyncOptions['imports']>): DynamicModule {
    return {
      module: SwitchboardConfigModule,
      global: true,
      imports,
      providers: [optionsProvider, clientProvider, configProvider],
      exports: [SwitchboardConfig, Switchboard],
    };
  }

  /**
   * Closes the client after every provider's onModuleDestroy, so the app's own shutdown (say,
   * releasing a lock) can still use it; Nest runs a module class's hook after its providers'.
   */
  async onApplicationShutdown(): Promise<void> {
    await this.client.close();
  }
}
