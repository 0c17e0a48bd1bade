import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Drains an async iterable in the background into `items`, so a test can wait (bounded) for a
 * condition on what arrived; `done` settles with how the iteration ended.
 */
export function collect<T>(iterable: AsyncIterable<T>): { items: T[]; done: Promise<unknown>; until(condition: (items: T[]) => boolean, what: string, timeoutMs?: number): Promise<void> } {
  const items: T[] = [];
  const waiters = new Set<() => void>();
  const done = (async (): Promise<unknown> => {
    try {
      for await (const item of iterable) {
        items.push(item);
        for (const wake of [...waiters]) wake();
      }
      return undefined;
    } catch (error) {
      return error;
    } finally {
      for (const wake of [...waiters]) wake();
    }
  })();
  let finished = false;
  void done.then(() => (finished = true));
  return {
    items,
    done,
    until(condition, what, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (condition(items)) {
            cleanup();
            resolve();
          } else if (finished) {
            cleanup();
            reject(new Error(`${what}: the iteration ended first (${items.length} items)`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`${what}: not within ${timeoutMs} ms (${items.length} items)`));
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
  };
}

/**
 * A plain HTTP reverse proxy in front of a server that refuses WebSocket upgrades and the
 * socket.io path, as some corporate proxies do: the HTTP API works, the watch socket does not.
 */
export async function startNoWebSocketProxy(target: string): Promise<{ url: string; close(): Promise<void> }> {
  const upstream = new URL(target);
  const server: Server = createServer((incoming, outgoing) => {
    if (incoming.url?.startsWith('/socket.io/')) {
      outgoing.writeHead(404).end('no socket.io here');
      return;
    }
    const forwarded = request(
      { host: upstream.hostname, port: upstream.port, method: incoming.method, path: incoming.url, headers: incoming.headers },
      (response) => {
        outgoing.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(outgoing);
      },
    );
    forwarded.on('error', () => outgoing.destroy());
    incoming.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The server's live watch subscriptions gauge. */
export async function watchSubscriptions(url: string): Promise<number> {
  const self = (await (await fetch(`${url}/v1/agent/self`)).json()) as { Switchboard: { WatchSubscriptions: number } };
  return self.Switchboard.WatchSubscriptions;
}
