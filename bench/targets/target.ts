/** A server the bench can start, drive and stop. */
import type { KvClientFactory } from '../drivers/kv-client.js';
import type { TargetId } from '../lib/config.js';
import type { Child } from '../lib/proc.js';
import type { WorkloadId } from '../workloads/workload.js';

export interface RunningTarget {
  /** The server process: its PID is where RSS and CPU are read. */
  child: Child;
  /**
   * Further processes serving this target (its own Redis, other nodes): their CPU and RSS are
   * added to the server's, and the runs stop if one of them dies.
   */
  extraChildren?: Child[];
  client: KvClientFactory;
  /** Stops the process by PID and removes its temp dir. */
  stop(): Promise<void>;
}

export interface Target {
  id: TargetId;
  /** Name in reports, with a version where one is known. */
  label: string;
  /** The workloads this target can serve (the bare Nest app: the single-key GET and the PUT). */
  supports: readonly WorkloadId[];
  /** Whether the bench must seed it (false for targets with canned answers). */
  writable: boolean;
  /** Why the target cannot run on this machine (with how to fix it), or undefined. */
  unavailable(): string | undefined;
  start(): Promise<RunningTarget>;
}
