/**
 * `npm run bench`: for each target (Switchboard embedded, Switchboard on its own Redis with AOF
 * everysec / always / two nodes, etcd, bare Nest) start it, seed it, run every
 * selected workload at every concurrency, stop it; then write bench/RESULTS.md.
 *
 * Env: BENCH_SECONDS (10), BENCH_WARMUP (2), BENCH_CONCURRENCY (1,16,64),
 * BENCH_ONLY=get,recurse,put,cas, BENCH_TARGETS=switchboard,switchboard-redis-everysec,switchboard-redis-always,
 * switchboard-redis-2nodes,etcd,bare-nest, BENCH_OUT,
 * BENCH_ETCD_BIN, BENCH_ETCD_SERIALIZABLE=1, BENCH_STRICT=1. See bench/README.md.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { runClosedLoop } from './drivers/closed-loop.js';
import { BenchConfigError, readConfig, type BenchConfig } from './lib/config.js';
import { machineInfo } from './lib/machine.js';
import { benchDir } from './lib/paths.js';
import { cleanupAll, cpuSeconds, installExitHandlers, logTail, machineCpu, rssBytes, type MachineCpu } from './lib/proc.js';
import { evaluateGoals, fmtMs, fmtOps, GENERATOR_BOUND_PERCENT, NOISY_PERCENT, renderReport } from './lib/report.js';
import type { RunRecord, TargetOutcome } from './lib/results.js';
import { summarize } from './lib/stats.js';
import { bareNest } from './targets/bare-nest.js';
import { etcd } from './targets/etcd.js';
import { switchboard } from './targets/switchboard.js';
import { REDIS_VERSION, switchboardRedis2Nodes, switchboardRedisAlways, switchboardRedisEverysec } from './targets/switchboard-redis.js';
import type { RunningTarget, Target } from './targets/target.js';
import { probe, seed } from './workloads/seed.js';
import { WORKLOADS, type WorkloadId } from './workloads/workload.js';

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

class Progress {
  private done = 0;
  constructor(private readonly total: number) {}
  next(label: string): void {
    this.done++;
    process.stdout.write(`[${this.done}/${this.total}] ${label} ... `);
  }
  skip(labels: string[], why: string): void {
    for (const label of labels) {
      this.done++;
      console.log(`[${this.done}/${this.total}] ${label} ... skipped (${why})`);
    }
  }
}

function plannedWorkloads(target: Target, config: BenchConfig): WorkloadId[] {
  return config.workloads.filter((w) => target.supports.includes(w));
}

function runLabels(target: Target, workloads: WorkloadId[], config: BenchConfig): string[] {
  const reps = Array.from({ length: config.repeat }, (_, i) => (config.repeat > 1 ? ` #${i + 1}` : ''));
  return workloads.flatMap((w) => config.concurrency.flatMap((c) => reps.map((rep) => `${target.id} ${WORKLOADS[w].label} c=${c}${rep}`)));
}

async function runOne(target: Target, running: RunningTarget, workload: WorkloadId, concurrency: number, config: BenchConfig): Promise<RunRecord> {
  const w = WORKLOADS[workload];
  // A target served by several processes (nodes, its Redis) is measured as their sum.
  const pids = [running.child, ...(running.extraChildren ?? [])].map((c) => c.pid);
  const serverCpu = (): number => pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  const client = running.client(concurrency);
  try {
    await w.prepare?.(client);
    let cpuStart = Number.NaN;
    let machineStart: MachineCpu | undefined;
    let windowStart = 0;
    const result = await runClosedLoop({
      concurrency,
      warmupMs: config.warmupSeconds * 1000,
      durationMs: config.seconds * 1000,
      op: w.op(client),
      onMeasureStart: () => {
        cpuStart = serverCpu();
        machineStart = machineCpu();
        windowStart = performance.now();
      },
    });
    const windowSeconds = (performance.now() - windowStart) / 1000;
    const machineEnd = machineCpu();
    const percent = (seconds: number): number => (seconds / windowSeconds) * 100;
    const serverCpuPercent = percent(serverCpu() - cpuStart);
    const allProcessesPercent = percent(machineEnd.processes - (machineStart?.processes ?? Number.NaN));
    const serverRssBytes = pids.reduce((sum, pid) => sum + rssBytes(pid), 0);
    const verification = w.verify && !result.aborted ? await w.verify(client, result) : undefined;
    const lat = summarize(result.latenciesMs);
    return {
      target: target.id,
      workload,
      concurrency,
      opsPerSec: result.elapsedMs > 0 ? (result.ops / result.elapsedMs) * 1000 : 0,
      p50Ms: lat.p50,
      p99Ms: lat.p99,
      maxMs: lat.max,
      ops: result.ops,
      errors: result.errors,
      firstError: result.firstError,
      conflicts: result.conflicts,
      totalCompleted: result.totalCompleted,
      serverRssBytes,
      serverCpuPercent,
      loadgenCpuPercent: result.loadgenCpuPercent,
      otherCpuPercent: Math.max(0, allProcessesPercent - serverCpuPercent - result.loadgenCpuPercent),
      stealPercent: percent(machineEnd.steal - (machineStart?.steal ?? Number.NaN)),
      opsSpread: [],
      verification,
      aborted: result.aborted,
    };
  } finally {
    await client.close();
  }
}

/** The median repetition by ops/s, carrying every repetition's errors and any failed check. */
function median(reps: RunRecord[]): RunRecord {
  const sorted = [...reps].sort((a, b) => a.opsPerSec - b.opsPerSec);
  const mid = sorted[Math.floor((sorted.length - 1) / 2)] ?? reps[0];
  if (!mid) throw new Error('no repetitions');
  return {
    ...mid,
    opsSpread: sorted.map((r) => r.opsPerSec),
    errors: reps.reduce((n, r) => n + r.errors, 0),
    firstError: reps.find((r) => r.firstError)?.firstError,
    aborted: reps.find((r) => r.aborted)?.aborted,
    verification: reps.find((r) => r.verification && !r.verification.ok)?.verification ?? mid.verification,
  };
}

function describe(r: RunRecord): string {
  const parts = [
    `${fmtOps(r.opsPerSec)} ops/s`,
    `p50 ${fmtMs(r.p50Ms)} ms`,
    `p99 ${fmtMs(r.p99Ms)} ms`,
    `rss ${Number.isFinite(r.serverRssBytes) ? (r.serverRssBytes / 2 ** 20).toFixed(0) : '?'} MiB`,
    `cpu srv ${r.serverCpuPercent.toFixed(0)}% gen ${r.loadgenCpuPercent.toFixed(0)}% other ${r.otherCpuPercent.toFixed(0)}%`,
  ];
  if (r.otherCpuPercent >= NOISY_PERCENT || r.stealPercent >= NOISY_PERCENT) {
    parts.push(`NOISY (other processes ${r.otherCpuPercent.toFixed(0)}%, steal ${r.stealPercent.toFixed(0)}% of a core)`);
  }
  if (r.loadgenCpuPercent >= GENERATOR_BOUND_PERCENT) parts.push('GENERATOR-BOUND');
  if (r.workload === 'cas') parts.push(`conflicts ${r.conflicts}`);
  if (r.verification) parts.push(r.verification.ok ? 'verified: 0 lost updates' : `VERIFY FAILED: ${r.verification.detail}`);
  if (r.errors > 0) parts.push(`${r.errors} errors (first: ${r.firstError ?? '?'})`);
  if (r.aborted) parts.push(`ABORTED: ${r.aborted}`);
  return parts.join('  ');
}

async function benchTarget(target: Target, config: BenchConfig, progress: Progress, records: RunRecord[]): Promise<TargetOutcome> {
  const outcome: TargetOutcome = { id: target.id, label: target.label, state: 'ran', notes: [] };
  let workloads = plannedWorkloads(target, config);
  const unavailable = target.unavailable();
  if (unavailable) {
    console.log(`\n${target.label}: not available — ${unavailable}`);
    progress.skip(runLabels(target, workloads, config), `${target.id} not available`);
    return { ...outcome, state: 'unavailable', notes: [unavailable] };
  }

  console.log(`\n${target.label}: starting…`);
  let running: RunningTarget;
  try {
    running = await target.start();
  } catch (err) {
    console.log(`${target.label}: failed to start: ${message(err)}`);
    progress.skip(runLabels(target, workloads, config), `${target.id} failed to start`);
    return { ...outcome, state: 'failed', notes: [`failed to start: ${message(err).split('\n')[0]}`] };
  }
  try {
    const extra = (running.extraChildren ?? []).map((c) => `${c.name} pid ${c.pid}`);
    console.log(`${target.label}: pid ${running.child.pid}${extra.length > 0 ? ` (+ ${extra.join(', ')})` : ''}`);
    if (target.writable) {
      const t0 = performance.now();
      await seed(running.client);
      console.log(`${target.label}: seeded in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
    const servable: WorkloadId[] = [];
    for (const w of workloads) {
      try {
        await probe(running.client, w, target.writable);
        servable.push(w);
      } catch (err) {
        const note = `${WORKLOADS[w].label} not served correctly, skipped: ${message(err)}`;
        console.log(`${target.label}: ${note}`);
        outcome.notes.push(note);
        progress.skip(runLabels(target, [w], config), 'probe failed');
      }
    }
    workloads = servable;

    for (const [i, w] of workloads.entries()) {
      for (const [j, c] of config.concurrency.entries()) {
        const dead = [running.child, ...(running.extraChildren ?? [])].find((c) => c.exitedAlready());
        if (dead) {
          const rest = runLabels(target, workloads.slice(i), config).slice(j * config.repeat);
          const note = `${dead.name} ${await dead.exited} during the runs\n${logTail(dead)}`;
          console.log(`${target.label}: ${note}`);
          outcome.notes.push(note.split('\n')[0] ?? note);
          progress.skip(rest, `${target.id} died`);
          return { ...outcome, state: 'failed' };
        }
        const reps: RunRecord[] = [];
        for (let rep = 1; rep <= config.repeat; rep++) {
          progress.next(`${target.id} ${WORKLOADS[w].label} c=${c}${config.repeat > 1 ? ` #${rep}` : ''}`);
          const record = await runOne(target, running, w, c, config);
          reps.push(record);
          console.log(describe(record));
          await sleep(300); // let the server settle closed connections before the next run
        }
        records.push(median(reps));
      }
    }
  } catch (err) {
    console.log(`\n${target.label}: ${message(err)}\n${logTail(running.child)}`);
    outcome.state = 'failed';
    outcome.notes.push(message(err).split('\n')[0] ?? 'failed');
  } finally {
    await running.stop();
    console.log(`${target.label}: stopped`);
  }
  return outcome;
}

async function main(): Promise<number> {
  installExitHandlers();
  const config = readConfig();
  const startedAt = new Date();
  const machine = machineInfo();
  const etcdTarget = etcd({ bin: config.etcdBin, serializable: config.etcdSerializable });
  const targets: Target[] = [switchboard, switchboardRedisEverysec, switchboardRedisAlways, switchboardRedis2Nodes, etcdTarget, bareNest].filter((t) =>
    config.targets.includes(t.id),
  );
  const total = targets.reduce((n, t) => n + plannedWorkloads(t, config).length * config.concurrency.length * config.repeat, 0);

  console.log(`Switchboard bench — ${machine.cpuModel}, ${machine.cores} cores (shared with the load generator), ${(machine.ramBytes / 2 ** 30).toFixed(1)} GiB, Node ${machine.node}`);
  console.log(
    `${total} runs of ${config.warmupSeconds} s warm-up + ${config.seconds} s${config.repeat > 1 ? ` (each ${config.repeat}×, median kept)` : ''}; targets ${targets.map((t) => t.id).join(', ')}; ` +
      `workloads ${config.workloads.join(', ')}; concurrency ${config.concurrency.join(', ')}`,
  );
  if (config.partialReasons.length > 0) console.log(`Partial run: ${config.partialReasons.join('; ')}`);

  const progress = new Progress(total);
  const records: RunRecord[] = [];
  const outcomes: TargetOutcome[] = [];
  for (const target of targets) outcomes.push(await benchTarget(target, config, progress, records));

  const partialReasons = outcomes.filter((o) => o.state !== 'ran' || o.notes.length > 0).map((o) => `${o.label} ${o.state === 'ran' ? 'skipped some workloads' : o.state}`);
  const report = renderReport({
    config,
    machine,
    etcdVersion: etcdTarget.version,
    redisVersion: REDIS_VERSION,
    startedAt,
    finishedAt: new Date(),
    records,
    outcomes,
    partialReasons,
  });
  const out = config.out ? resolve(config.out) : join(benchDir, 'RESULTS.md');
  // The hand-written analysis of what bounds each figure travels with every generated report.
  const analysisPath = join(benchDir, 'ANALYSIS.md');
  const analysis = existsSync(analysisPath) ? `\n${readFileSync(analysisPath, 'utf8')}` : '';
  writeFileSync(out, report + analysis);

  const goals = evaluateGoals(records);
  console.log('\nTargets:');
  for (const g of goals) {
    const figures = g.reference === '—' && g.ratio === '—' ? g.switchboard : `${g.switchboard} vs ${g.reference} = ${g.ratio}`;
    console.log(`  ${g.verdict.padEnd(12)} ${g.goal}: ${figures} (${g.note})`);
  }
  const partial = [...config.partialReasons, ...partialReasons];
  console.log(`\nWrote ${out}${partial.length > 0 ? ` (marked PARTIAL: ${partial.join('; ')})` : ''}`);
  return config.strict && goals.some((g) => g.verdict !== 'PASS') ? 1 : 0;
}

void main().then(
  async (code) => {
    await cleanupAll();
    process.exit(code);
  },
  async (err: unknown) => {
    console.error(err instanceof BenchConfigError ? err.message : `bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    await cleanupAll();
    process.exit(2);
  },
);
