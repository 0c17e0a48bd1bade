/** A keep-alive undici pool and the few request shapes the drivers use. */
import { Pool } from 'undici';

/** A request that has not answered within this many ms fails the op (runs must stay bounded). */
const REQUEST_TIMEOUT_MS = 10_000;

export function openPool(origin: string, connections: number): Pool {
  return new Pool(origin, {
    connections,
    pipelining: 1,
    keepAliveTimeout: 60_000,
    keepAliveMaxTimeout: 60_000,
    headersTimeout: REQUEST_TIMEOUT_MS,
    bodyTimeout: REQUEST_TIMEOUT_MS,
  });
}

export interface HttpReply {
  status: number;
  body: string;
}

export type Method = 'GET' | 'PUT' | 'POST';

export class UnexpectedReply extends Error {
  constructor(method: Method, path: string, status: number, body: string) {
    super(`${method} ${path} → ${status}${body ? ` ${body.slice(0, 200)}` : ''}`);
    this.name = 'UnexpectedReply';
  }
}

/** Sends one request and returns status and body text. */
export async function send(pool: Pool, method: Method, path: string, body?: Buffer | string): Promise<HttpReply> {
  const res = await pool.request({ method, path, body: body ?? null });
  return { status: res.statusCode, body: await res.body.text() };
}

/** Sends one request, drains the body unread, and throws unless the status is `expect`. */
export async function sendExpect(pool: Pool, method: Method, path: string, expect: number, body?: Buffer | string): Promise<void> {
  const res = await pool.request({ method, path, body: body ?? null });
  if (res.statusCode !== expect) {
    throw new UnexpectedReply(method, path, res.statusCode, await res.body.text());
  }
  // Consume every chunk (dump() would reset connections for bodies above its 128 KiB limit).
  for await (const chunk of res.body) void chunk;
}
