/**
 * Consul KV over HTTP (API.md §5), as Switchboard serves it. The bare Nest target speaks the
 * GET half of it.
 */
import type { Pool } from 'undici';
import { openPool, send, sendExpect, UnexpectedReply } from './http.js';
import type { Counter, KvClient, KvClientFactory } from './kv-client.js';

interface DirEntry {
  Key: string;
  Value: string | null;
  ModifyIndex: number;
}

/** Keys used by the bench are plain ASCII; encodeURI keeps `/` and escapes anything else. */
function kvPath(key: string): string {
  return `/v1/kv/${encodeURI(key)}`;
}

class ConsulKvClient implements KvClient {
  constructor(private readonly pool: Pool) {}

  getOne(key: string): Promise<void> {
    return sendExpect(this.pool, 'GET', kvPath(key), 200);
  }

  getPrefix(prefix: string): Promise<void> {
    return sendExpect(this.pool, 'GET', `${kvPath(prefix)}?recurse`, 200);
  }

  async put(key: string, value: Buffer): Promise<void> {
    const path = kvPath(key);
    const reply = await send(this.pool, 'PUT', path, value);
    if (reply.status !== 200 || reply.body.trim() !== 'true') {
      throw new UnexpectedReply('PUT', path, reply.status, reply.body);
    }
  }

  async readCounter(key: string): Promise<Counter> {
    const entry = await this.readEntry(key);
    if (!entry) throw new Error(`counter ${key} is missing`);
    const value = Number(Buffer.from(entry.Value ?? '', 'base64').toString('latin1'));
    if (!Number.isSafeInteger(value)) throw new Error(`counter ${key} holds ${JSON.stringify(entry.Value)}`);
    return { value, version: String(entry.ModifyIndex) };
  }

  async cas(key: string, version: string, value: Buffer): Promise<boolean> {
    const path = `${kvPath(key)}?cas=${version}`;
    const reply = await send(this.pool, 'PUT', path, value);
    const body = reply.body.trim();
    if (reply.status === 200 && (body === 'true' || body === 'false')) return body === 'true';
    throw new UnexpectedReply('PUT', path, reply.status, reply.body);
  }

  async readValue(key: string): Promise<Buffer | undefined> {
    const entry = await this.readEntry(key);
    return entry ? Buffer.from(entry.Value ?? '', 'base64') : undefined;
  }

  async countPrefix(prefix: string): Promise<number> {
    const path = `${kvPath(prefix)}?recurse`;
    const reply = await send(this.pool, 'GET', path);
    if (reply.status === 404) return 0;
    if (reply.status !== 200) throw new UnexpectedReply('GET', path, reply.status, reply.body);
    return (JSON.parse(reply.body) as DirEntry[]).length;
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  private async readEntry(key: string): Promise<DirEntry | undefined> {
    const path = kvPath(key);
    const reply = await send(this.pool, 'GET', path);
    if (reply.status === 404) return undefined;
    if (reply.status !== 200) throw new UnexpectedReply('GET', path, reply.status, reply.body);
    const entries = JSON.parse(reply.body) as DirEntry[];
    const entry = entries[0];
    if (entries.length !== 1 || !entry || entry.Key !== key) {
      throw new Error(`GET ${path} → expected one entry for ${key}, got ${reply.body.slice(0, 200)}`);
    }
    return entry;
  }
}

export function consulKv(origin: string): KvClientFactory {
  return (connections) => new ConsulKvClient(openPool(origin, connections));
}
