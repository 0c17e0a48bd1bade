import { Pool } from 'undici';

export interface LoadTarget {
  readonly name: string;
  readonly url: string;
}

export interface WriteFailure {
  readonly node: string;
  readonly key: string;
  /** HTTP status, or undefined when the request got no answer (connection refused or cut). */
  readonly status?: number;
  readonly body: string;
}

export interface LoadResult {
  /** Writes answered `200 true`: key → value (with a key space, the last acknowledged here, not necessarily the last in the log). */
  readonly acked: Map<string, string>;
  readonly acknowledged: number;
  /** Acknowledged writes per node name. */
  readonly ackedBy: Map<string, number>;
  readonly failures: WriteFailure[];
  readonly elapsedMs: number;
}

export interface WriteLoadOptions {
  /** Concurrent clients, each bound to one target (client i → target i mod n), each with its own keep-alive connection. */
  readonly clients: number;
  /** Key prefix; the n-th write goes to `${prefix}/${n % keySpace}`. */
  readonly prefix: string;
  /** Stop after this many writes in all (else run until stop()). */
  readonly total?: number;
  /** Distinct keys written (default: every write its own key). */
  readonly keySpace?: number;
}

export interface WriteLoad {
  /** Writes answered so far (acknowledged or failed). */
  readonly answered: number;
  readonly acknowledged: number;
  readonly failures: readonly WriteFailure[];
  /** Resolves once every client is done (total reached, or stop() called). */
  readonly done: Promise<LoadResult>;
  /** Asks the clients to stop after their current request; resolves like `done`. */
  stop(): Promise<LoadResult>;
}

/**
 * PUT load over keep-alive connections (undici pools). A client whose node stops answering
 * altogether (refused or reset connection: the node was killed) stops; any other failure,
 * e.g. a 503 while Redis is down, is recorded and the client goes on.
 */
export function startWriteLoad(targets: readonly LoadTarget[], options: WriteLoadOptions): WriteLoad {
  const perTarget = Math.ceil(options.clients / targets.length);
  const pools = new Map(targets.map((t) => [t.name, new Pool(t.url, { connections: perTarget, keepAliveTimeout: 30_000 })]));
  const acked = new Map<string, string>();
  const ackedBy = new Map<string, number>(targets.map((t) => [t.name, 0]));
  const failures: WriteFailure[] = [];
  const started = Date.now();
  let next = 0;
  let answered = 0;
  let acknowledged = 0;
  let stopped = false;

  const client = async (index: number): Promise<void> => {
    const target = targets[index % targets.length]!;
    const pool = pools.get(target.name)!;
    while (!stopped && (options.total === undefined || next < options.total)) {
      const n = next++;
      const key = `${options.prefix}/${options.keySpace === undefined ? n : n % options.keySpace}`;
      const value = `v${n}`;
      try {
        const response = await pool.request({ path: `/v1/kv/${key}`, method: 'PUT', body: value });
        const body = await response.body.text();
        answered++;
        if (response.statusCode === 200 && body === 'true') {
          acked.set(key, value);
          acknowledged++;
          ackedBy.set(target.name, (ackedBy.get(target.name) ?? 0) + 1);
        } else {
          failures.push({ node: target.name, key, status: response.statusCode, body });
        }
      } catch (error) {
        answered++;
        failures.push({ node: target.name, key, body: (error as Error).message });
        return;
      }
    }
  };

  const done = Promise.all(Array.from({ length: options.clients }, (_, i) => client(i))).then(async () => {
    await Promise.all([...pools.values()].map((pool) => pool.destroy()));
    return { acked, acknowledged, ackedBy, failures, elapsedMs: Date.now() - started };
  });
  return {
    get answered() {
      return answered;
    },
    get acknowledged() {
      return acknowledged;
    },
    failures,
    done,
    stop() {
      stopped = true;
      return done;
    },
  };
}
