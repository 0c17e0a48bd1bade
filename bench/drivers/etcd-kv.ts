/**
 * etcd v3 through its JSON gateway (grpc-gateway, `POST /v3/kv/*`): keys and values are base64,
 * int64 fields are JSON strings. Reads use etcd's default (linearizable) consistency unless
 * `serializable` is set.
 *
 * CAS mirrors the Consul loop exactly: read the counter with a range, then a txn whose compare is
 * `MOD == mod_revision` and whose success branch is the put; on failure the caller re-reads.
 */
import type { Pool } from 'undici';
import { openPool, send, sendExpect, UnexpectedReply } from './http.js';
import type { Counter, KvClient, KvClientFactory } from './kv-client.js';

interface RangeReply {
  kvs?: { key: string; value?: string; mod_revision?: string }[];
  count?: string;
}

interface TxnReply {
  succeeded?: boolean;
}

const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64');

/** The smallest key greater than every key starting with `prefix` (etcd's `WithPrefix`). */
export function prefixEnd(prefix: string): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    const byte = end[i] ?? 0;
    if (byte < 0xff) {
      end[i] = byte + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]); // all 0xff: range to the end of the keyspace
}

class EtcdKvClient implements KvClient {
  constructor(
    private readonly pool: Pool,
    private readonly serializable: boolean,
  ) {}

  getOne(key: string): Promise<void> {
    return sendExpect(this.pool, 'POST', '/v3/kv/range', 200, this.rangeBody(key));
  }

  getPrefix(prefix: string): Promise<void> {
    return sendExpect(this.pool, 'POST', '/v3/kv/range', 200, this.rangeBody(prefix, prefixEnd(prefix)));
  }

  async put(key: string, value: Buffer): Promise<void> {
    await this.post('/v3/kv/put', JSON.stringify({ key: b64(key), value: value.toString('base64') }));
  }

  async readCounter(key: string): Promise<Counter> {
    const kv = (await this.range(key)).kvs?.[0];
    if (!kv?.mod_revision) throw new Error(`counter ${key} is missing`);
    const value = Number(Buffer.from(kv.value ?? '', 'base64').toString('latin1'));
    if (!Number.isSafeInteger(value)) throw new Error(`counter ${key} holds ${JSON.stringify(kv.value)}`);
    return { value, version: kv.mod_revision };
  }

  async cas(key: string, version: string, value: Buffer): Promise<boolean> {
    const k = b64(key);
    const body = JSON.stringify({
      compare: [{ key: k, target: 'MOD', result: 'EQUAL', mod_revision: version }],
      success: [{ request_put: { key: k, value: value.toString('base64') } }],
    });
    // grpc-gateway leaves out false booleans, so a failed compare has no `succeeded` at all.
    return ((await this.post('/v3/kv/txn', body)) as TxnReply).succeeded === true;
  }

  async readValue(key: string): Promise<Buffer | undefined> {
    const kv = (await this.range(key)).kvs?.[0];
    return kv ? Buffer.from(kv.value ?? '', 'base64') : undefined;
  }

  async countPrefix(prefix: string): Promise<number> {
    return (await this.range(prefix, prefixEnd(prefix))).kvs?.length ?? 0;
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  private rangeBody(key: string, end?: Buffer): string {
    return JSON.stringify({
      key: b64(key),
      ...(end ? { range_end: end.toString('base64') } : {}),
      ...(this.serializable ? { serializable: true } : {}),
    });
  }

  private async range(key: string, end?: Buffer): Promise<RangeReply> {
    return (await this.post('/v3/kv/range', this.rangeBody(key, end))) as RangeReply;
  }

  private async post(path: string, body: string): Promise<unknown> {
    const reply = await send(this.pool, 'POST', path, body);
    if (reply.status !== 200) throw new UnexpectedReply('POST', path, reply.status, reply.body);
    return JSON.parse(reply.body) as unknown;
  }
}

export function etcdKv(origin: string, serializable: boolean): KvClientFactory {
  return (connections) => new EtcdKvClient(openPool(origin, connections), serializable);
}
