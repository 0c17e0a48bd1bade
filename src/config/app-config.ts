import 'reflect-metadata';
import { hostname } from 'node:os';
import { plainToInstance, Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, MinLength, validateSync } from 'class-validator';

/** host:port, the host a name, an IPv4 address or a bracketed IPv6 one, the port 1-65535. */
const ADVERTISE_ADDR =
  /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?):([1-9]\d{0,3}|[1-5]\d{4}|6[0-4]\d{3}|65[0-4]\d{2}|655[0-2]\d|6553[0-5])$/;

/** Environment variables the server reads; each is optional and has a default in `loadConfig`. */
export class EnvSchema {
  @IsOptional() @Type(() => Number) @IsInt() @Min(0) @Max(65535)
  PORT?: number;

  @IsOptional() @IsString() @MinLength(1)
  HOST?: string;

  @IsOptional() @IsString() @MinLength(1)
  DATA_DIR?: string;

  @IsOptional() @IsIn(['error', 'warn', 'log', 'debug', 'verbose'])
  LOG_LEVEL?: string;

  @IsOptional() @IsString() @Matches(/^[A-Za-z0-9_.-]{1,128}$/)
  NODE_NAME?: string;

  @IsOptional() @Matches(ADVERTISE_ADDR, { message: 'ADVERTISE_ADDR must be host:port with a port of 1-65535, e.g. 10.0.0.5:8500 or [fd00::5]:8500' })
  ADVERTISE_ADDR?: string;

  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(100_000_000)
  HISTORY_SIZE?: number;

  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(10_000)
  VERSIONS_PER_KEY?: number;

  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(100_000_000)
  SNAPSHOT_EVERY?: number;

  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(10)
  SESSION_TTL_MULTIPLIER?: number;

  @IsOptional() @Matches(/^rediss?:\/\/\S*$/, { message: 'REDIS_URL must be a redis:// or rediss:// URL' })
  REDIS_URL?: string;

  @IsOptional() @Matches(/^[^\s,:]+:\d{1,5}(,[^\s,:]+:\d{1,5})*$/, { message: 'REDIS_SENTINELS must be host:port[,host:port…]' })
  REDIS_SENTINELS?: string;

  @IsOptional() @IsString() @MinLength(1)
  REDIS_MASTER_NAME?: string;

  @IsOptional() @Matches(/^[A-Za-z0-9_.-]{1,64}$/, { message: 'REDIS_PREFIX must be 1-64 letters, digits, _ . or -' })
  REDIS_PREFIX?: string;

  @IsOptional() @Type(() => Number) @IsInt() @Min(100) @Max(600_000)
  REDIS_WRITE_TIMEOUT_MS?: number;

  @IsOptional() @Type(() => Number) @IsInt() @Min(0) @Max(100)
  REDIS_WAIT_REPLICAS?: number;

  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(600_000)
  REDIS_WAIT_TIMEOUT_MS?: number;

  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(100_000_000)
  REDIS_RETAINED_ENTRIES?: number;

  @IsOptional() @Type(() => Number) @IsInt() @Min(300) @Max(600_000)
  REDIS_MEMBER_TTL_MS?: number;

  @IsOptional() @Type(() => Number) @IsInt() @Min(10) @Max(3_600_000)
  WATCH_PROGRESS_MS?: number;

  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(10_000_000)
  WATCH_BUFFER_EVENTS?: number;

  @IsOptional() @Type(() => Number) @IsInt() @Min(1024) @Max(1024 * 1024 * 1024)
  WATCH_BUFFER_BYTES?: number;

  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(1_000_000)
  WATCH_CATCHUP_BATCH?: number;
}

export type LogLevel = 'error' | 'warn' | 'log' | 'debug' | 'verbose';

/** Distributed mode: present when REDIS_URL or REDIS_SENTINELS is set. */
export interface RedisConfig {
  readonly url?: string;
  readonly sentinels?: readonly { readonly host: string; readonly port: number }[];
  readonly masterName?: string;
  readonly prefix: string;
  /** A write fails with 503 if the log has not taken it by then. */
  readonly writeTimeoutMs: number;
  /** Replicas that must acknowledge a write (Redis WAIT) before it is acknowledged. */
  readonly waitReplicas: number;
  readonly waitTimeoutMs: number;
  /** Entries kept in the stream after a snapshot, for nodes that lag. */
  readonly retainedEntries: number;
  /** A node missing its membership heartbeat this long drops out of /v1/status/peers. */
  readonly memberTtlMs: number;
}

/** The socket.io watch stream (see SubscriptionHub). */
export interface WatchConfig {
  /** An idle socket gets a `progress` message this often. */
  readonly progressMs: number;
  /** Undelivered events one subscription may hold before it ends with `overflow`. */
  readonly bufferEvents: number;
  /** Undelivered bytes (estimated JSON) one subscription may hold. */
  readonly bufferBytes: number;
  /** Events read from history per replay step of a subscription with fromIndex. */
  readonly catchupBatch: number;
}

/** The one typed configuration object every part of the server receives. */
export interface AppConfig {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly logLevel: LogLevel;
  readonly nodeName: string;
  /** ADVERTISE_ADDR when set; otherwise see advertisedAddress(). */
  readonly advertiseAddr?: string;
  /** Change events retained for history and watch-from-index. */
  readonly historySize: number;
  /** Versions retained per key for rollback. */
  readonly versionsPerKey: number;
  /** Applied entries between two snapshots. */
  readonly snapshotEvery: number;
  /** A session is invalid once TTL × this has passed since its last renew (Consul: 2). */
  readonly sessionTtlMultiplier: number;
  readonly watch: WatchConfig;
  /** Undefined: the embedded file log in dataDir. */
  readonly redis?: RedisConfig;
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Validates the environment at boot; every bad value is reported at once as `NAME=value: reason`. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const known = Object.fromEntries(
    CONFIG_VARIABLES.map((name) => [name, env[name] === '' ? undefined : env[name]]),
  );
  const dto = plainToInstance(EnvSchema, known);
  const problems = validateSync(dto).map(
    (e) => `${e.property}=${String(known[e.property])}: ${Object.values(e.constraints ?? {}).join('; ')}`,
  );
  if (dto.REDIS_SENTINELS !== undefined && dto.REDIS_MASTER_NAME === undefined) {
    problems.push(`REDIS_MASTER_NAME=: required with REDIS_SENTINELS (the name Sentinel monitors the master under)`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    port: dto.PORT ?? 8500,
    host: dto.HOST ?? '127.0.0.1',
    dataDir: dto.DATA_DIR ?? './data',
    logLevel: (dto.LOG_LEVEL ?? 'log') as LogLevel,
    nodeName: dto.NODE_NAME ?? hostname(),
    advertiseAddr: dto.ADVERTISE_ADDR,
    historySize: dto.HISTORY_SIZE ?? 100_000,
    versionsPerKey: dto.VERSIONS_PER_KEY ?? 20,
    snapshotEvery: dto.SNAPSHOT_EVERY ?? 50_000,
    sessionTtlMultiplier: dto.SESSION_TTL_MULTIPLIER ?? 2,
    watch: {
      progressMs: dto.WATCH_PROGRESS_MS ?? 10_000,
      bufferEvents: dto.WATCH_BUFFER_EVENTS ?? 10_000,
      bufferBytes: dto.WATCH_BUFFER_BYTES ?? 8 * 1024 * 1024,
      catchupBatch: dto.WATCH_CATCHUP_BATCH ?? 1000,
    },
    redis: redisConfig(dto),
  };
}

function redisConfig(dto: EnvSchema): RedisConfig | undefined {
  if (dto.REDIS_URL === undefined && dto.REDIS_SENTINELS === undefined) return undefined;
  return {
    url: dto.REDIS_URL,
    sentinels: dto.REDIS_SENTINELS?.split(',').map((pair) => {
      const [host = '', port = ''] = pair.split(':');
      return { host, port: Number(port) };
    }),
    masterName: dto.REDIS_MASTER_NAME,
    prefix: dto.REDIS_PREFIX ?? 'switchboard',
    writeTimeoutMs: dto.REDIS_WRITE_TIMEOUT_MS ?? 5000,
    waitReplicas: dto.REDIS_WAIT_REPLICAS ?? 0,
    waitTimeoutMs: dto.REDIS_WAIT_TIMEOUT_MS ?? 1000,
    retainedEntries: dto.REDIS_RETAINED_ENTRIES ?? 100_000,
    memberTtlMs: dto.REDIS_MEMBER_TTL_MS ?? 10_000,
  };
}

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]']);

/**
 * The "host:port" peers and clients are told to reach this node at: ADVERTISE_ADDR, else HOST and
 * the port the server really listens on (PORT may be 0). A wildcard HOST names no reachable
 * address, so the machine's hostname stands in for it.
 */
export function advertisedAddress(config: Pick<AppConfig, 'advertiseAddr' | 'host'>, listeningPort: number): string {
  if (config.advertiseAddr !== undefined) return config.advertiseAddr;
  const host = WILDCARD_HOSTS.has(config.host) ? hostname() : config.host;
  return `${host.includes(':') ? `[${host}]` : host}:${listeningPort}`;
}

/** The variable names, listed once so only known variables reach validation. */
class EnvSchemaKeys implements Required<Record<keyof EnvSchema, undefined>> {
  PORT = undefined;
  HOST = undefined;
  DATA_DIR = undefined;
  LOG_LEVEL = undefined;
  NODE_NAME = undefined;
  ADVERTISE_ADDR = undefined;
  HISTORY_SIZE = undefined;
  VERSIONS_PER_KEY = undefined;
  SNAPSHOT_EVERY = undefined;
  SESSION_TTL_MULTIPLIER = undefined;
  REDIS_URL = undefined;
  REDIS_SENTINELS = undefined;
  REDIS_MASTER_NAME = undefined;
  REDIS_PREFIX = undefined;
  REDIS_WRITE_TIMEOUT_MS = undefined;
  REDIS_WAIT_REPLICAS = undefined;
  REDIS_WAIT_TIMEOUT_MS = undefined;
  REDIS_RETAINED_ENTRIES = undefined;
  REDIS_MEMBER_TTL_MS = undefined;
  WATCH_PROGRESS_MS = undefined;
  WATCH_BUFFER_EVENTS = undefined;
  WATCH_BUFFER_BYTES = undefined;
  WATCH_CATCHUP_BATCH = undefined;
}

/** Every environment variable the server reads (docker-compose.yml is checked against it). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(new EnvSchemaKeys());

export const APP_CONFIG = 'APP_CONFIG';
