/**
 * What a workload needs from a target, in the target's own protocol. One client owns one
 * keep-alive connection pool sized to the run's concurrency, so N workers use N connections.
 *
 * Hot-path methods check the status code and drain the body without parsing it; the `read*`
 * methods parse and are used to seed, probe and verify (and by the CAS loop, which must parse).
 */
export interface Counter {
  value: number;
  /** The token the conditional write compares: Consul ModifyIndex / etcd mod_revision. */
  version: string;
}

export interface KvClient {
  /** One key, value included. */
  getOne(key: string): Promise<void>;
  /** Every key under a prefix, values included (Consul `?recurse`, etcd range). */
  getPrefix(prefix: string): Promise<void>;
  /** Unconditional write. */
  put(key: string, value: Buffer): Promise<void>;
  /** Reads a decimal counter and the version its CAS must compare. */
  readCounter(key: string): Promise<Counter>;
  /** Writes `value` only if the key is still at `version`; false on a conflict. */
  cas(key: string, version: string, value: Buffer): Promise<boolean>;
  /** The stored value, or undefined when the key is absent. */
  readValue(key: string): Promise<Buffer | undefined>;
  /** How many keys a prefix read returns. */
  countPrefix(prefix: string): Promise<number>;
  /**
   * The client worker `worker` of a closed loop should use. Only multi-node targets have one: it
   * pins each worker to one node (worker i → node i mod n), so the load is split across nodes and
   * a CAS reads and writes through the same node. Absent: every worker uses this client.
   */
  forWorker?(worker: number): KvClient;
  close(): Promise<void>;
}

export type KvClientFactory = (connections: number) => KvClient;
