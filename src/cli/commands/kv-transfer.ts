import { readFile } from 'node:fs/promises';
import type { KvEntry, Switchboard, TxnOp } from '../../client/index.js';
import { defineCommand } from '../args.js';
import { connect } from '../connection.js';
import { CliFailure, EXIT_OK, progress, writeStdout } from '../output.js';
import { readStdin } from '../stdin.js';
import { clientCommandSpec } from '../usage.js';

/**
 * `kv export` / `kv import` in `consul kv export`'s format, so trees move between Consul and
 * Switchboard in both directions: a JSON array of {"key", "flags", "value" (base64)} written as
 * Go's json.MarshalIndent with tabs writes it. Import writes in transactions (all keys of a batch
 * at one index) a few at a time; a failed batch stops the import with the earlier batches
 * written, as Consul's key-by-key import stops at the first failure.
 */

/** A tree this large gets progress lines on stderr. */
const PROGRESS_EVERY = 1000;
const OPS_PER_TXN = 64;
/** The server takes request bodies up to 512 KiB; a batch's JSON stays below with margin. */
const TXN_BODY_BUDGET = 448 * 1024;
/** Room in a txn body for one op's JSON besides its key and value. */
const OP_OVERHEAD_BYTES = 64;
const TXNS_IN_FLIGHT = 4;

interface ExportEntry {
  readonly key: string;
  readonly flags: bigint;
  readonly value: Buffer;
}

export const exportCommand = defineCommand(
  'write a prefix as JSON (consul kv export format)',
  clientCommandSpec(
    'kv export [<prefix>]',
    'Writes every key under <prefix> (default: all) to stdout as `consul kv export` does: a JSON array of {"key", "flags", "value" (base64)}. Large trees report progress on stderr.',
    {},
    [],
    { min: 0, max: 1 },
  ),
  async (args) => {
    // As in Consul: keys cannot start with "/", but people write "/foo".
    const prefix = (args.positionals[0] ?? '').replace(/^\//, '');
    await using client = await connect(args);
    const entries = await client.kv.list(prefix);
    writeStdout(consulExportJson(entries));
    if (entries.length >= PROGRESS_EVERY) progress(`exported ${keyCount(entries.length)}`);
    return EXIT_OK;
  },
);

export const importCommand = defineCommand(
  'write keys from JSON (consul kv export format)',
  clientCommandSpec(
    'kv import [<file> | -]',
    'Writes the keys of a `consul kv export` JSON array, read from <file> or stdin ("-" or no argument), in transactions of up to 64 keys. Progress goes to stderr, ending with "imported N keys".',
    {},
    [],
    { min: 0, max: 1 },
  ),
  async (args) => {
    const source = args.positionals[0] ?? '-';
    const text = source === '-' ? (await readStdin()).toString('utf8') : await readFile(source, 'utf8');
    const entries = parseConsulExport(text, source === '-' ? 'stdin' : source);
    await using client = await connect(args);
    await importEntries(client, entries);
    progress(`imported ${keyCount(entries.length)}`);
    return EXIT_OK;
  },
);

/** Byte for byte what Go's json.MarshalIndent(entries, "", "\t") and a final newline give. */
export function consulExportJson(entries: readonly KvEntry[]): string {
  if (entries.length === 0) return '[]\n';
  const items = entries.map(
    (entry) => `\t{\n\t\t"key": ${goJsonString(entry.key)},\n\t\t"flags": ${entry.flags},\n\t\t"value": ${goJsonString(entry.value.toString('base64'))}\n\t}`,
  );
  return `[\n${items.join(',\n')}\n]\n`;
}

/** Go's encoder escapes <, > and & (HTML safety) and U+2028/U+2029, which JSON.stringify keeps. */
function goJsonString(text: string): string {
  return JSON.stringify(text).replace(/[<>&\u2028\u2029]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * The entries of an export, the last one winning for a repeated key (Consul's import writes in
 * order). Flags are uint64: their number tokens become strings before JSON.parse could round them
 * (an unescaped `"flags":` cannot occur inside a JSON string, where every `"` is escaped).
 */
export function parseConsulExport(text: string, source: string): ExportEntry[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.replace(/"flags":(\s*)(\d+)/g, '"flags":$1"$2"'));
  } catch (error) {
    throw new CliFailure(`${source}: not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!Array.isArray(parsed)) throw new CliFailure(`${source}: expected a JSON array of {"key", "flags", "value"} as written by kv export`);
  const byKey = new Map<string, ExportEntry>();
  parsed.forEach((item: unknown, position) => {
    const { key, flags = '0', value = '' } = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
    if (typeof key !== 'string' || typeof flags !== 'string' || typeof value !== 'string' || !isBase64(value)) {
      throw new CliFailure(`${source}: entry ${position} is not {"key": string, "flags": integer, "value": base64 string}`);
    }
    byKey.delete(key);
    byKey.set(key, { key, flags: BigInt(flags), value: Buffer.from(value, 'base64') });
  });
  return [...byKey.values()];
}

function isBase64(text: string): boolean {
  return text.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(text);
}

async function importEntries(client: Switchboard, entries: readonly ExportEntry[]): Promise<void> {
  const batches = txnBatches(entries);
  const failed = new AbortController();
  let nextBatch = 0;
  let written = 0;
  const writeBatches = async (): Promise<void> => {
    for (let batch = batches[nextBatch++]; batch !== undefined && !failed.signal.aborted; batch = batches[nextBatch++]) {
      try {
        await writeBatch(client, batch, failed.signal);
      } catch (error) {
        if (!failed.signal.aborted) failed.abort(error);
        throw error;
      }
      const before = written;
      written += batch.length;
      if (entries.length >= PROGRESS_EVERY && Math.floor(written / PROGRESS_EVERY) > Math.floor(before / PROGRESS_EVERY)) {
        progress(`imported ${written}/${entries.length} keys`);
      }
    }
  };
  // allSettled: the batches still in flight when one fails are aborted, and waited for.
  await Promise.allSettled(Array.from({ length: Math.min(TXNS_IN_FLIGHT, batches.length) }, writeBatches));
  if (failed.signal.aborted) throw new CliFailure(`import stopped after ${written} of ${entries.length} keys: ${reason(failed.signal.reason)}`);
}

/** Consecutive entries in batches that fit one txn; a value too large for a batch goes alone. */
function txnBatches(entries: readonly ExportEntry[]): ExportEntry[][] {
  const batches: ExportEntry[][] = [];
  let current: ExportEntry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = Buffer.byteLength(entry.key) + Math.ceil(entry.value.length / 3) * 4 + OP_OVERHEAD_BYTES;
    if (current.length === OPS_PER_TXN || (current.length > 0 && bytes + size > TXN_BODY_BUDGET)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

async function writeBatch(client: Switchboard, batch: readonly ExportEntry[], signal: AbortSignal): Promise<void> {
  const [only] = batch;
  // A value that cannot share a txn body is sent as a plain PUT, whose body is the raw bytes.
  if (batch.length === 1 && only !== undefined && only.value.length * 4 > TXN_BODY_BUDGET * 3) {
    await client.kv.put(only.key, only.value, { flags: only.flags, signal });
    return;
  }
  const ops: TxnOp[] = batch.map((entry) => ({ verb: 'set', key: entry.key, value: entry.value, flags: entry.flags }));
  await client.kv.txn(ops, { signal });
}

function keyCount(count: number): string {
  return `${count} ${count === 1 ? 'key' : 'keys'}`;
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
