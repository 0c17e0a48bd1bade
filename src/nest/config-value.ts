import { parse as parseYaml } from 'yaml';
import type { ConfigValueFormat } from './switchboard-config.options.js';

/** A value under the prefix that is not valid in the configured format. */
export class ConfigValueError extends Error {
  constructor(
    /** The key relative to the prefix. */
    readonly key: string,
    readonly format: ConfigValueFormat,
    cause: unknown,
  ) {
    super(`${JSON.stringify(key)} is not valid ${format}: ${firstLine(cause)}`, { cause });
    this.name = 'ConfigValueError';
  }
}

/** yaml's messages go on with an excerpt of the document over several lines; a log line needs one. */
function firstLine(cause: unknown): string {
  const message = cause instanceof Error ? cause.message : String(cause);
  return (message.split('\n')[0] ?? '').replace(/:$/, '');
}

/**
 * The value as the app reads it, deeply frozen: every reader (and every `previous` handed to
 * `changes$`) shares one parsed object, so a caller mutating it would change it for all.
 */
export function parseConfigValue(key: string, value: Buffer, format: ConfigValueFormat): unknown {
  const text = value.toString('utf8');
  if (format === 'string') return text;
  try {
    return deepFreeze(format === 'json' ? JSON.parse(text) : parseYaml(text));
  } catch (error) {
    throw new ConfigValueError(key, format, error);
  }
}

function deepFreeze(value: unknown): unknown {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
