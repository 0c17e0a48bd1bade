import { ConsulHttpError, badRequest } from '../common/consul-error.js';
import { MAX_BODY_BYTES } from '../common/consul-exception.filter.js';
import { JsonNumber, JsonObject, JsonSyntaxError, bindFields, isJsonArray, jsonKind, parseExactJson, type JsonValue } from '../common/exact-json.js';
import { invalidKeyReason } from '../common/key-path.js';
import { parseUint64 } from '../common/uint64.js';
import type { TxnError, TxnOp, TxnVerb } from '../core/commands.js';
import { keptCopy } from '../core/kept-bytes.js';

/** Consul's maxTxnOps since 1.14 (API.md §8.2). */
export const MAX_TXN_OPS = 128;

/** The ops to run, where each sits in the request, and the pre-check failures (→ 409). */
export interface ParsedTxn {
  readonly ops: TxnOp[];
  /**
   * `opIndexes[i]` is the request-array position of `ops[i]`. They differ once an element is
   * skipped, and a TxnError's OpIndex must name the request position (§8.4), so failures found
   * when the ops run are reported through this map.
   */
  readonly opIndexes: number[];
  /** Every pre-check failure, in op order; the caller answers 409 when there is any. */
  readonly errors: TxnError[];
}

const CATALOG_OP_FIELDS = ['Node', 'Service', 'Check'] as const;
const TXN_OP_FIELDS = ['KV', ...CATALOG_OP_FIELDS] as const;
const KV_OP_FIELDS = ['Verb', 'Key', 'Value', 'Flags', 'Index', 'Session', 'Namespace', 'Partition'] as const;
const KV_VERBS: ReadonlySet<string> = new Set<TxnVerb>([
  'set', 'cas', 'lock', 'unlock', 'get', 'get-or-empty', 'get-tree',
  'check-index', 'check-session', 'check-not-exists', 'delete', 'delete-tree', 'delete-cas',
]);
/** Verbs that store a value under exactly `Key`; the key must be one a KV URL can address. */
const KEY_STORING_VERBS: ReadonlySet<TxnVerb> = new Set<TxnVerb>(['set', 'cas', 'lock', 'unlock']);
const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const BASE64_LINE_BREAKS = /[\r\n]/g;
const MAX_SAFE_INDEX = BigInt(Number.MAX_SAFE_INTEGER);

type CatalogOpField = (typeof CATALOG_OP_FIELDS)[number];

/** A KV op as decoded: the verb is still any string, checked with the other pre-checks. */
interface DecodedKvOp {
  readonly verb: string;
  readonly key: string;
  readonly value: Buffer;
  readonly flags: bigint;
  readonly index: number;
  readonly session: string;
}

type DecodedElement =
  | { readonly kind: 'kv'; readonly op: DecodedKvOp }
  | { readonly kind: 'catalog'; readonly field: CatalogOpField }
  | { readonly kind: 'empty' };

/** Every decode failure is a 400 with Consul's prefix (§8.2); the reason is one line. */
function parseFailed(reason: string): ConsulHttpError {
  return badRequest(`Failed to parse body: ${reason}`);
}

/** `what` is the JSON kind, or for a number that does not fit a Go integer, `number <literal>`. */
function wrongType(what: string, field: string, goType: string): ConsulHttpError {
  return parseFailed(`json: cannot unmarshal ${what} into Go struct field TxnOp.${field} of type ${goType}`);
}

function rejectUnknownField(unknown: string | undefined): void {
  if (unknown !== undefined) throw parseFailed(`json: unknown field ${JSON.stringify(unknown)}`);
}

function optionalString(value: JsonValue | undefined, field: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw wrongType(jsonKind(value), `KV.${field}`, 'string');
  return value;
}

function optionalUint64(value: JsonValue | undefined, field: string): bigint {
  if (value === undefined || value === null) return 0n;
  if (!(value instanceof JsonNumber)) throw wrongType(jsonKind(value), `KV.${field}`, 'uint64');
  const parsed = parseUint64(value.text);
  if (parsed === undefined) throw wrongType(`number ${value.text}`, `KV.${field}`, 'uint64');
  return parsed;
}

/**
 * Where Go's base64.StdEncoding would stop on `text`, or undefined when it decodes. A port of
 * Go's decodeQuantum: padding is required, and CR/LF are skipped anywhere.
 */
function corruptBase64Offset(text: string): number | undefined {
  const isLineBreak = (at: number): boolean => text[at] === '\n' || text[at] === '\r';
  let at = 0;
  while (at < text.length) {
    for (let quantumChars = 0; quantumChars < 4; quantumChars++) {
      if (at === text.length) return quantumChars === 0 ? undefined : at - quantumChars;
      const char = text[at] as string;
      at++;
      if (BASE64_ALPHABET.includes(char)) continue;
      if (char === '\n' || char === '\r') {
        quantumChars--;
        continue;
      }
      if (char !== '=' || quantumChars < 2) return at - 1;
      if (quantumChars === 2) {
        while (at < text.length && isLineBreak(at)) at++;
        if (at === text.length) return text.length;
        if (text[at] !== '=') return at - 1;
        at++;
      }
      while (at < text.length && isLineBreak(at)) at++;
      return at < text.length ? at : undefined;
    }
  }
  return undefined;
}

/** `Value` is a []byte in Go: padded standard base64, `null` for none (§1.6, §8.1). */
function decodeValue(value: JsonValue | undefined): Buffer {
  if (value === undefined || value === null) return Buffer.alloc(0);
  if (typeof value !== 'string') throw wrongType(jsonKind(value), 'KV.Value', '[]uint8');
  const corruptAt = corruptBase64Offset(value);
  if (corruptAt !== undefined) throw parseFailed(`illegal base64 data at input byte ${corruptAt}`);
  return keptCopy(Buffer.from(value.replace(BASE64_LINE_BREAKS, ''), 'base64'));
}

function decodeKvOp(value: JsonValue): DecodedKvOp {
  if (!(value instanceof JsonObject)) throw wrongType(jsonKind(value), 'KV', 'api.KVTxnOp');
  const { fields, unknown } = bindFields(value, KV_OP_FIELDS);
  rejectUnknownField(unknown);
  const index = optionalUint64(fields.Index, 'Index');
  if (index > MAX_SAFE_INDEX) {
    // Indexes are JS numbers in Switchboard; a larger one could only be a client error.
    throw parseFailed(`Index ${index} is above ${Number.MAX_SAFE_INTEGER}, the largest index Switchboard supports`);
  }
  // Enterprise-only scoping (§1.7): decoded so a wrong type is a 400, otherwise ignored.
  optionalString(fields.Namespace, 'Namespace');
  optionalString(fields.Partition, 'Partition');
  return {
    verb: optionalString(fields.Verb, 'Verb'),
    key: optionalString(fields.Key, 'Key'),
    value: decodeValue(fields.Value),
    flags: optionalUint64(fields.Flags, 'Flags'),
    index: Number(index),
    session: optionalString(fields.Session, 'Session'),
  };
}

/**
 * One request element. `null` members count as absent, as Go's nil pointers do; an element with
 * none of KV/Node/Service/Check is skipped (§8.1). Consul silently prefers KV when several are
 * set; Switchboard refuses the ambiguity.
 */
function decodeElement(element: JsonValue, position: number): DecodedElement {
  if (element === null) return { kind: 'empty' };
  if (!(element instanceof JsonObject)) throw parseFailed(`json: cannot unmarshal ${jsonKind(element)} into Go value of type api.TxnOp`);
  const { fields, unknown } = bindFields(element, TXN_OP_FIELDS);
  rejectUnknownField(unknown);
  const present = TXN_OP_FIELDS.flatMap((field) => {
    const value = fields[field];
    return value === undefined || value === null ? [] : [[field, value] as const];
  });
  if (present.length > 1) throw parseFailed(`operation ${position} has more than one of KV, Node, Service, Check`);
  const [only] = present;
  if (only === undefined) return { kind: 'empty' };
  const [field, value] = only;
  if (field === 'KV') return { kind: 'kv', op: decodeKvOp(value) };
  if (!(value instanceof JsonObject)) throw wrongType(jsonKind(value), field, `api.${field}TxnOp`);
  return { kind: 'catalog', field };
}

function readElements(body: Buffer): readonly JsonValue[] {
  let document: JsonValue;
  try {
    document = parseExactJson(body.toString('utf8'));
  } catch (error) {
    // Go's decoder reports an empty body as EOF.
    if (error instanceof JsonSyntaxError) throw parseFailed(body.length === 0 ? 'EOF' : error.message);
    throw error;
  }
  if (!isJsonArray(document)) throw parseFailed(`json: cannot unmarshal ${jsonKind(document)} into Go value of type api.TxnOps`);
  return document;
}

function isTxnVerb(verb: string): verb is TxnVerb {
  return KV_VERBS.has(verb);
}

/** The op ready to run, or the text of its pre-check failure (§8.3). */
function precheckKvOp(op: DecodedKvOp): TxnOp | string {
  if (op.key === '' && op.verb !== 'delete-tree') return 'Must provide key';
  const { verb } = op;
  if (!isTxnVerb(verb)) return `unknown KV verb ${JSON.stringify(verb)}`;
  const keyProblem = KEY_STORING_VERBS.has(verb) ? invalidKeyReason(op.key) : undefined;
  return keyProblem ?? { ...op, verb };
}

/**
 * PUT /v1/txn (API.md §8.1–8.3), in Consul's order: the whole body is decoded first (any
 * failure is a 400), then the op count and value sizes are checked (413), then every op is
 * pre-checked and all failures are returned together.
 */
export function parseTxn(body: Buffer): ParsedTxn {
  const elements = readElements(body);
  const decoded = elements.map(decodeElement);
  if (elements.length > MAX_TXN_OPS) {
    throw new ConsulHttpError(413, `Transaction contains too many operations (${elements.length} > ${MAX_TXN_OPS})`);
  }
  for (const element of decoded) {
    if (element.kind === 'kv' && element.op.value.length > MAX_BODY_BYTES) {
      const { key, value } = element.op;
      throw new ConsulHttpError(413, `Value for key ${JSON.stringify(key)} is too large (${value.length} > ${MAX_BODY_BYTES} bytes)`);
    }
  }

  const parsed: ParsedTxn = { ops: [], opIndexes: [], errors: [] };
  decoded.forEach((element, opIndex) => {
    if (element.kind === 'empty') return;
    if (element.kind === 'catalog') {
      // Out of scope for a config store; §8.3 asks for a TxnError rather than a 400.
      parsed.errors.push({ opIndex, what: `Switchboard does not support ${element.field} operations in transactions` });
      return;
    }
    const checked = precheckKvOp(element.op);
    if (typeof checked === 'string') {
      parsed.errors.push({ opIndex, what: checked });
      return;
    }
    parsed.ops.push(checked);
    parsed.opIndexes.push(opIndex);
  });
  return parsed;
}
