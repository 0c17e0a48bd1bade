/**
 * The NestJS consumer module: live configuration from Switchboard, built on the SDK. Published
 * as `switchboard/nest`.
 */
export { SwitchboardConfigModule } from './switchboard-config.module.js';
export { SwitchboardConfig, type SwitchboardConfigChange } from './switchboard-config.js';
export { ConfigValueError } from './config-value.js';
export {
  type ConfigValueFormat,
  SWITCHBOARD_CONFIG_OPTIONS,
  type SwitchboardConfigAsyncOptions,
  type SwitchboardConfigOptions,
} from './switchboard-config.options.js';
