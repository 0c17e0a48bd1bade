import 'reflect-metadata';
import { hostname } from 'node:os';
import { plainToInstance, Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, MinLength, validateSync } from 'class-validator';

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

  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(100_000_000)
  HISTORY_SIZE?: number;

  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(10_000)
  VERSIONS_PER_KEY?: number;

  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(100_000_000)
  SNAPSHOT_EVERY?: number;
}

export type LogLevel = 'error' | 'warn' | 'log' | 'debug' | 'verbose';

/** The one typed configuration object every part of the server receives. */
export interface AppConfig {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly logLevel: LogLevel;
  readonly nodeName: string;
  /** Change events retained for history and watch-from-index. */
  readonly historySize: number;
  /** Versions retained per key for rollback. */
  readonly versionsPerKey: number;
  /** Applied entries between two snapshots of the embedded log. */
  readonly snapshotEvery: number;
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
    Object.keys(new EnvSchemaKeys()).map((name) => [name, env[name] === '' ? undefined : env[name]]),
  );
  const dto = plainToInstance(EnvSchema, known);
  const errors = validateSync(dto);
  if (errors.length > 0) {
    throw new ConfigError(
      errors.map((e) => `${e.property}=${String(known[e.property])}: ${Object.values(e.constraints ?? {}).join('; ')}`),
    );
  }
  return {
    port: dto.PORT ?? 8500,
    host: dto.HOST ?? '127.0.0.1',
    dataDir: dto.DATA_DIR ?? './data',
    logLevel: (dto.LOG_LEVEL ?? 'log') as LogLevel,
    nodeName: dto.NODE_NAME ?? hostname(),
    historySize: dto.HISTORY_SIZE ?? 100_000,
    versionsPerKey: dto.VERSIONS_PER_KEY ?? 20,
    snapshotEvery: dto.SNAPSHOT_EVERY ?? 50_000,
  };
}

/** The variable names, listed once so only known variables reach validation. */
class EnvSchemaKeys implements Required<Record<keyof EnvSchema, undefined>> {
  PORT = undefined;
  HOST = undefined;
  DATA_DIR = undefined;
  LOG_LEVEL = undefined;
  NODE_NAME = undefined;
  HISTORY_SIZE = undefined;
  VERSIONS_PER_KEY = undefined;
  SNAPSHOT_EVERY = undefined;
}

export const APP_CONFIG = 'APP_CONFIG';
