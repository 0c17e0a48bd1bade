/**
 * Closed-loop load: `concurrency` workers, each issuing its next op as soon as the previous one
 * answered, for warm-up + measured time. Only ops that *start* inside the measured window count;
 * throughput is those ops over the time from the window's start to the last of them finishing,
 * so the in-flight tail at the deadline is neither lost nor double-counted.
 *
 * An op may report that it did not complete (a CAS loop that hit the deadline while retrying)
 * and how many conflicts it met; both are kept apart from latency.
 */
import { performance } from 'node:perf_hooks';

export interface OpOutcome {
  /** False when the op gave up at the deadline without taking effect. */
  completed: boolean;
  /** CAS attempts that lost a race inside this op. */
  conflicts: number;
}

/** One op; `stopAt` (performance.now() time) lets retry loops give up at the deadline. */
export type Op = (worker: number, stopAt: number) => Promise<OpOutcome | void>;

export interface LoopOptions {
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  op: Op;
  /** Called once when the measured window opens (sample server CPU here). */
  onMeasureStart?: () => void;
  /** Give up after this many errors in a row with no success in between (default 200). */
  maxConsecutiveErrors?: number;
}

export interface LoopResult {
  /** Completed ops that started inside the measured window. */
  ops: number;
  /** Their latencies in ms, unsorted. */
  latenciesMs: Float64Array;
  /** Measured window in ms (window start → last counted op finished). */
  elapsedMs: number;
  /** Completed ops over the whole run, warm-up included (what a CAS counter must equal). */
  totalCompleted: number;
  conflicts: number;
  /** Failed ops (exception or unexpected reply), warm-up included. */
  errors: number;
  firstError: string | undefined;
  /** Set when the run stopped early because every op was failing. */
  aborted: string | undefined;
  /** CPU time of this process (the load generator) over the window, in % of one core. */
  loadgenCpuPercent: number;
}

export async function runClosedLoop(opts: LoopOptions): Promise<LoopResult> {
  const maxConsecutive = opts.maxConsecutiveErrors ?? 200;
  const begin = performance.now();
  const stopAt = begin + opts.warmupMs + opts.durationMs;
  let windowStart = Number.POSITIVE_INFINITY;
  let cpuAtWindow: NodeJS.CpuUsage | undefined;

  let latencies = new Float64Array(1 << 16);
  let ops = 0;
  let lastEnd = 0;
  let totalCompleted = 0;
  let conflicts = 0;
  let errors = 0;
  let consecutiveErrors = 0;
  let firstError: string | undefined;
  let aborted: string | undefined;

  const openWindow = (): void => {
    windowStart = performance.now();
    cpuAtWindow = process.cpuUsage();
    opts.onMeasureStart?.();
  };
  const timer = setTimeout(openWindow, opts.warmupMs);

  const worker = async (id: number): Promise<void> => {
    for (;;) {
      const start = performance.now();
      if (start >= stopAt || aborted !== undefined) return;
      try {
        const outcome = (await opts.op(id, stopAt)) ?? { completed: true, conflicts: 0 };
        const end = performance.now();
        consecutiveErrors = 0;
        if (outcome.completed) totalCompleted++;
        if (start >= windowStart) {
          conflicts += outcome.conflicts;
          if (outcome.completed) {
            if (ops === latencies.length) {
              const grown = new Float64Array(latencies.length * 2);
              grown.set(latencies);
              latencies = grown;
            }
            latencies[ops++] = end - start;
            if (end > lastEnd) lastEnd = end;
          }
        }
      } catch (err) {
        errors++;
        firstError ??= err instanceof Error ? err.message : String(err);
        if (++consecutiveErrors >= maxConsecutive) {
          aborted = `${consecutiveErrors} errors in a row, first: ${firstError}`;
        }
      }
    }
  };

  try {
    await Promise.all(Array.from({ length: opts.concurrency }, (_, i) => worker(i)));
  } finally {
    clearTimeout(timer);
  }
  if (cpuAtWindow === undefined) openWindow(); // the run was aborted inside the warm-up
  const cpu = process.cpuUsage(cpuAtWindow);
  const cpuWallMs = Math.max(performance.now() - windowStart, 1);
  return {
    ops,
    latenciesMs: latencies.subarray(0, ops),
    elapsedMs: ops > 0 ? lastEnd - windowStart : 0,
    totalCompleted,
    conflicts,
    errors,
    firstError,
    aborted,
    loadgenCpuPercent: ((cpu.user + cpu.system) / 1000 / cpuWallMs) * 100,
  };
}
