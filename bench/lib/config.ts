/**
 * Every knob of `npm run bench`, read once from the environment. Defaults are the figures that go
 * into bench/RESULTS.md; anything else makes the run "partial" and RESULTS.md says so.
 */
import { WORKLOAD_IDS, type WorkloadId } from '../workloads/workload.js';

export const TARGET_IDS = [
  'switchboard',
  'switchboard-redis-everysec',
  'switchboard-redis-always',
  'switchboard-redis-2nodes',
  'etcd',
  'bare-nest',
] as const;
export type TargetId = (typeof TARGET_IDS)[number];

export interface BenchConfig {
  /** Measured seconds per run (BENCH_SECONDS, default 10). */
  seconds: number;
  /** Warm-up seconds per run, not measured (BENCH_WARMUP, default 2). */
  warmupSeconds: number;
  /** Repetitions of each run; the median by ops/s is reported (BENCH_REPEAT, default 1). */
  repeat: number;
  /** Client counts (BENCH_CONCURRENCY, default 1,16,64). */
  concurrency: number[];
  workloads: WorkloadId[];
  targets: TargetId[];
  /** Where the report goes (BENCH_OUT, default bench/RESULTS.md). */
  out: string | undefined;
  /** Use serializable (local) etcd reads instead of etcd's default linearizable ones. */
  etcdSerializable: boolean;
  /** etcd binary (BENCH_ETCD_BIN, default: etcd on PATH, then /usr/bin/etcd). */
  etcdBin: string | undefined;
  /** Exit 1 when a target figure is FAIL (BENCH_STRICT=1). */
  strict: boolean;
  /** Reasons this run is not the full default run; empty when it is. */
  partialReasons: string[];
}

/** Bad BENCH_* settings: reported as one message, no stack. */
export class BenchConfigError extends Error {
  override name = 'BenchConfigError';
}

const DEFAULT_CONCURRENCY = [1, 16, 64];

/** Accepts the short ids (`get`) and the labels printed in reports (`get-one`). */
const WORKLOAD_ALIASES: Record<string, WorkloadId> = {
  get: 'get',
  'get-one': 'get',
  recurse: 'recurse',
  'recurse-100': 'recurse',
  put: 'put',
  'put-256b': 'put',
  cas: 'cas',
  'cas-incr': 'cas',
};

export function readConfig(env: NodeJS.ProcessEnv = process.env): BenchConfig {
  const errors: string[] = [];
  const partialReasons: string[] = [];

  const positive = (name: string, fallback: number, zeroOk = false): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0 || (n === 0 && !zeroOk)) {
      errors.push(`${name}=${raw} (expected a ${zeroOk ? 'non-negative' : 'positive'} number of seconds)`);
      return fallback;
    }
    if (n !== fallback) partialReasons.push(`${name}=${raw} (default ${fallback})`);
    return n;
  };
  const seconds = positive('BENCH_SECONDS', 10);
  const warmupSeconds = positive('BENCH_WARMUP', 2, true);

  const list = (name: string): string[] | undefined => {
    const raw = env[name]?.trim();
    if (!raw) return undefined;
    return raw.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '');
  };

  let repeat = 1;
  if (env.BENCH_REPEAT) {
    repeat = Number(env.BENCH_REPEAT);
    if (!Number.isInteger(repeat) || repeat < 1 || repeat > 20) errors.push(`BENCH_REPEAT=${env.BENCH_REPEAT} (expected an integer 1..20)`);
  }

  let concurrency = DEFAULT_CONCURRENCY;
  const c = list('BENCH_CONCURRENCY');
  if (c) {
    const parsed = c.map(Number);
    if (parsed.some((n) => !Number.isInteger(n) || n < 1 || n > 1024)) {
      errors.push(`BENCH_CONCURRENCY=${env.BENCH_CONCURRENCY} (expected integers 1..1024, e.g. 1,16,64)`);
    } else {
      concurrency = [...new Set(parsed)].sort((a, b) => a - b);
      partialReasons.push(`BENCH_CONCURRENCY=${concurrency.join(',')}`);
    }
  }

  let workloads: WorkloadId[] = [...WORKLOAD_IDS];
  const only = list('BENCH_ONLY');
  if (only) {
    const picked = new Set<WorkloadId>();
    for (const name of only) {
      const id = WORKLOAD_ALIASES[name];
      if (id) picked.add(id);
      else errors.push(`BENCH_ONLY: unknown workload "${name}" (known: ${WORKLOAD_IDS.join(', ')})`);
    }
    workloads = WORKLOAD_IDS.filter((id) => picked.has(id));
    partialReasons.push(`BENCH_ONLY=${workloads.join(',')}`);
  }

  let targets: TargetId[] = [...TARGET_IDS];
  const t = list('BENCH_TARGETS');
  if (t) {
    const picked = new Set<string>();
    for (const name of t) {
      if ((TARGET_IDS as readonly string[]).includes(name)) picked.add(name);
      else errors.push(`BENCH_TARGETS: unknown target "${name}" (known: ${TARGET_IDS.join(', ')})`);
    }
    targets = TARGET_IDS.filter((id) => picked.has(id));
    partialReasons.push(`BENCH_TARGETS=${targets.join(',')}`);
  }

  const etcdSerializable = env.BENCH_ETCD_SERIALIZABLE === '1';
  if (etcdSerializable) partialReasons.push('BENCH_ETCD_SERIALIZABLE=1 (etcd reads are serializable)');

  if (errors.length > 0) {
    throw new BenchConfigError(`invalid bench settings:\n  ${errors.join('\n  ')}`);
  }
  return {
    seconds,
    warmupSeconds,
    repeat,
    concurrency,
    workloads,
    targets,
    out: env.BENCH_OUT || undefined,
    etcdSerializable,
    etcdBin: env.BENCH_ETCD_BIN || undefined,
    strict: env.BENCH_STRICT === '1',
    partialReasons,
  };
}
