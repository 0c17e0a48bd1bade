/** What one run and one target produced, as the report consumes it. */
import type { TargetId } from './config.js';
import type { Verification, WorkloadId } from '../workloads/workload.js';

export interface RunRecord {
  target: TargetId;
  workload: WorkloadId;
  concurrency: number;
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Ops counted in the measured window. */
  ops: number;
  errors: number;
  firstError: string | undefined;
  conflicts: number;
  /** Completed ops over the whole run, warm-up included. */
  totalCompleted: number;
  serverRssBytes: number;
  /** CPU over the measured window, % of one core (200% = both cores of a 2-core machine). */
  serverCpuPercent: number;
  loadgenCpuPercent: number;
  /** user+system CPU of every other process on the machine: noise when well above zero. */
  otherCpuPercent: number;
  /** Hypervisor steal over the window. */
  stealPercent: number;
  /** ops/s of every repetition, ascending (BENCH_REPEAT); the record is the median one. */
  opsSpread: number[];
  verification: Verification | undefined;
  aborted: string | undefined;
}

export type TargetState = 'ran' | 'unavailable' | 'failed' | 'not selected';

export interface TargetOutcome {
  id: TargetId;
  label: string;
  state: TargetState;
  /** Why it did not run, or what went wrong. */
  notes: string[];
}
