/**
 * The Switchboard SDK: the public surface, and the only module callers import. See README.md in
 * this directory for a tour.
 */
export { Switchboard, type SwitchboardLogger, type SwitchboardOptions } from './switchboard.js';
export type { CallOptions, DeleteOptions, Indexed, KvApi, PutOptions, ReadOptions, TxnOp } from './kv.js';
export type { Session, SessionInfo, SessionOptions, SessionsApi } from './sessions.js';
export type { HistoryOptions, HistoryPage, RollbackOptions } from './history.js';
export type { WatchBatch, WatchOptions, WatchTransport } from './watch.js';
export type { WatchBufferLimits } from './watch-socket.js';
export type { ElectOptions, Lock, LockOptions } from './lock.js';
export type { ConfigChange, ConfigSource, LiveConfig, LiveConfigOptions } from './live-config.js';
export type { BackoffOptions } from './retry-policy.js';
export type { ChangeEvent, KvEntry, KvVersion } from './wire.js';
export {
  CompactedError,
  ERROR_CODES,
  fromResponse,
  SwitchboardError,
  type SwitchboardErrorCode,
  TxnFailedError,
  type TxnOpError,
} from './errors.js';
