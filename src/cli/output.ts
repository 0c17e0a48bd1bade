import type { ChangeEvent, KvEntry, KvVersion, SessionInfo } from '../client/index.js';

/**
 * What the CLI prints. Results go to stdout, as text for people or, with --json, as JSON in
 * Consul's field names (values in base64, Flags as a decimal string because a uint64 does not
 * fit a JSON number exactly). Progress and errors go to stderr, so stdout stays a clean result.
 */

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** A failure the CLI explains in one line (`switchboard: <reason>`) and exits 1 for. */
export class CliFailure extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'CliFailure';
  }
}

export function writeStdout(data: string | Buffer): void {
  process.stdout.write(data);
}

/** One document, indented for reading (`jq` reads it as well). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** One document per line (NDJSON), for streams. */
export function printJsonLine(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** Progress and notices: stderr, never mixed into a result. */
export function progress(line: string): void {
  process.stderr.write(`switchboard: ${line}\n`);
}

export function printError(reason: string): void {
  process.stderr.write(`switchboard: ${reason}\n`);
}

function base64(value: Buffer): string | null {
  return value.length === 0 ? null : value.toString('base64');
}

export function entryJson(entry: KvEntry): Record<string, unknown> {
  return {
    LockIndex: entry.lockIndex,
    Key: entry.key,
    Flags: entry.flags.toString(),
    Value: base64(entry.value),
    ...(entry.session === undefined ? {} : { Session: entry.session }),
    CreateIndex: entry.createIndex,
    ModifyIndex: entry.modifyIndex,
  };
}

/** A change as /v1/history and the watch stream write it, plus PrevValue/PrevModifyIndex. */
export function eventJson(event: ChangeEvent): Record<string, unknown> {
  return {
    Index: event.index,
    Type: event.type,
    ...entryJson(event),
    Session: event.session ?? null,
    PrevValue: base64(event.prevValue),
    PrevModifyIndex: event.prevModifyIndex,
  };
}

export function versionJson(version: KvVersion): Record<string, unknown> {
  return { ModifyIndex: version.modifyIndex, Flags: version.flags.toString(), Value: base64(version.value) };
}

export function sessionJson(session: SessionInfo): Record<string, unknown> {
  return {
    ID: session.id,
    Name: session.name,
    Node: session.node,
    LockDelay: Math.round(session.lockDelayMs * 1e6),
    Behavior: session.behavior,
    TTL: session.ttl,
    CreateIndex: session.createIndex,
  };
}

/**
 * A value on one line of text: as is when it is printable UTF-8, else as a JSON string literal,
 * so a newline or binary byte in a value cannot break a `key = value` listing.
 */
export function displayValue(value: Buffer): string {
  const text = value.toString('utf8');
  // eslint-disable-next-line no-control-regex
  const plain = Buffer.from(text, 'utf8').equals(value) && !/[\u0000-\u001f\u007f\u2028\u2029]/.test(text) && !text.startsWith('"');
  return plain ? text : JSON.stringify(text);
}

/** `<index> put <key> = <value>` / `<index> delete <key>`, for watch and history. */
export function eventLine(event: ChangeEvent): string {
  return event.type === 'delete' ? `${event.index} delete ${event.key}` : `${event.index} put ${event.key} = ${displayValue(event.value)}`;
}
