/**
 * bench/RESULTS.md: machine, method, the target figures with PASS/FAIL, every figure as a ratio
 * to etcd and to bare Nest, the raw table, and the CAS lost-update check.
 */
import type { BenchConfig, TargetId } from './config.js';
import type { MachineInfo } from './machine.js';
import type { RunRecord, TargetOutcome } from './results.js';
import { PUT_KEYS, PUT_VALUE_BYTES, READ_VALUE_BYTES, RECURSE_KEYS } from '../workloads/fixtures.js';
import { WORKLOADS, type WorkloadId } from '../workloads/workload.js';

/** Other processes or the hypervisor took this much of a core during a run: its figure is not clean. */
export const NOISY_PERCENT = 20;
/** The load generator used this much of a core: the figure may be the generator's limit, not the server's. */
export const GENERATOR_BOUND_PERCENT = 90;

export type Verdict = 'PASS' | 'FAIL' | 'NOT MEASURED';

export interface GoalResult {
  goal: string;
  switchboard: string;
  reference: string;
  ratio: string;
  verdict: Verdict;
  note: string;
}

interface RatioGoal {
  goal: string;
  /** The Switchboard target the goal is about. */
  subject: TargetId;
  workload: WorkloadId;
  concurrency: number;
  vs: TargetId;
  min: number;
  /** How the minimum reads in the table. */
  wording: string;
}

const RATIO_GOALS: RatioGoal[] = [
  { goal: 'single-key GET, c=64 vs etcd range', subject: 'switchboard', workload: 'get', concurrency: 64, vs: 'etcd', min: 3, wording: '≥ 3×' },
  { goal: 'single-key GET, c=64 vs bare Nest', subject: 'switchboard', workload: 'get', concurrency: 64, vs: 'bare-nest', min: 0.75, wording: '≥ 75%' },
  { goal: 'recurse GET 100 keys, c=64 vs etcd range', subject: 'switchboard', workload: 'recurse', concurrency: 64, vs: 'etcd', min: 4, wording: '≥ 4×' },
  { goal: 'PUT 256 B, c=64 vs etcd put', subject: 'switchboard', workload: 'put', concurrency: 64, vs: 'etcd', min: 2, wording: '≥ 2×' },
  { goal: 'CAS successes/s, 16 clients vs etcd txn', subject: 'switchboard', workload: 'cas', concurrency: 16, vs: 'etcd', min: 2, wording: '≥ 2×' },
  // Redis mode (the bench's own redis-server, AOF everysec, one node)
  {
    goal: 'Redis mode (AOF everysec): single-key GET, c=64 vs embedded GET',
    subject: 'switchboard-redis-everysec',
    workload: 'get',
    concurrency: 64,
    vs: 'switchboard',
    min: 0.9,
    wording: '≥ 90%',
  },
  { goal: 'Redis mode (AOF everysec): PUT 256 B, c=64 vs etcd put', subject: 'switchboard-redis-everysec', workload: 'put', concurrency: 64, vs: 'etcd', min: 2, wording: '≥ 2×' },
  {
    goal: 'Redis mode (AOF everysec): CAS successes/s, 16 clients vs etcd txn',
    subject: 'switchboard-redis-everysec',
    workload: 'cas',
    concurrency: 16,
    vs: 'etcd',
    min: 2,
    wording: '≥ 2×',
  },
];

/** Every Switchboard target: embedded first, then the Redis modes. */
const SWITCHBOARD_TARGETS: TargetId[] = ['switchboard', 'switchboard-redis-everysec', 'switchboard-redis-always', 'switchboard-redis-2nodes'];
const REDIS_TARGETS: TargetId[] = SWITCHBOARD_TARGETS.slice(1);

const TARGET_NAMES: Record<TargetId, string> = {
  switchboard: 'Switchboard',
  'switchboard-redis-everysec': 'Switchboard Redis everysec',
  'switchboard-redis-always': 'Switchboard Redis always',
  'switchboard-redis-2nodes': 'Switchboard Redis 2 nodes',
  etcd: 'etcd',
  'bare-nest': 'bare Nest',
};

const int = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
export const fmtOps = (n: number): string => (Number.isFinite(n) ? int.format(n) : '—');
export const fmtMs = (n: number): string => (Number.isFinite(n) ? (n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : n.toFixed(0)) : '—');
const fmtMiB = (n: number): string => (Number.isFinite(n) ? `${(n / 2 ** 20).toFixed(0)}` : '—');
const fmtPct = (n: number): string => (Number.isFinite(n) ? `${n.toFixed(0)}%` : '—');
const fmtRatio = (n: number): string => (Number.isFinite(n) ? `${n.toFixed(2)}×` : '—');

function find(records: RunRecord[], target: TargetId, workload: WorkloadId, concurrency: number): RunRecord | undefined {
  return records.find((r) => r.target === target && r.workload === workload && r.concurrency === concurrency);
}

/** A record whose figure can be trusted: it ran to the end without errors. */
function usable(r: RunRecord | undefined): r is RunRecord {
  return r !== undefined && r.aborted === undefined && r.errors === 0 && r.ops > 0;
}

export function evaluateGoals(records: RunRecord[]): GoalResult[] {
  const results: GoalResult[] = RATIO_GOALS.map((g) => {
    const sb = find(records, g.subject, g.workload, g.concurrency);
    const ref = find(records, g.vs, g.workload, g.concurrency);
    const base = { goal: g.goal, switchboard: sb ? `${fmtOps(sb.opsPerSec)}/s` : '—', reference: ref ? `${fmtOps(ref.opsPerSec)}/s` : '—' };
    if (!sb || !ref) {
      const missing = [!sb && TARGET_NAMES[g.subject], !ref && TARGET_NAMES[g.vs]].filter(Boolean).join(' and ');
      return { ...base, ratio: '—', verdict: 'NOT MEASURED', note: `${g.wording}; no ${missing} run at c=${g.concurrency}` };
    }
    const ratio = sb.opsPerSec / ref.opsPerSec;
    const problems = [!usable(sb) && `${TARGET_NAMES[g.subject]} run had errors`, !usable(ref) && `${TARGET_NAMES[g.vs]} run had errors`].filter(Boolean);
    const verdict: Verdict = problems.length > 0 || !(ratio >= g.min) ? 'FAIL' : 'PASS';
    return { ...base, ratio: fmtRatio(ratio), verdict, note: [g.wording, ...problems].join('; ') };
  });

  const casRuns = records.filter((r) => SWITCHBOARD_TARGETS.includes(r.target) && r.workload === 'cas');
  const bad = casRuns.filter((r) => !r.verification?.ok);
  const runName = (r: RunRecord): string => `${r.target === 'switchboard' ? '' : `${TARGET_NAMES[r.target]} `}c=${r.concurrency}`;
  results.push({
    goal: 'CAS: zero lost updates (every Switchboard CAS run, embedded and Redis)',
    switchboard: casRuns.length ? casRuns.map((r) => `${runName(r)}: ${r.verification?.lostUpdates ?? '?'}`).join(', ') : '—',
    reference: '—',
    ratio: '—',
    verdict: casRuns.length === 0 ? 'NOT MEASURED' : bad.length === 0 ? 'PASS' : 'FAIL',
    note: bad.map((r) => `${runName(r)}: ${r.verification?.detail ?? r.aborted ?? 'not verified'}`).join('; ') || 'counter == successful CAS',
  });
  return results;
}

export interface ReportInput {
  config: BenchConfig;
  machine: MachineInfo;
  etcdVersion: string | undefined;
  redisVersion: string | undefined;
  startedAt: Date;
  finishedAt: Date;
  records: RunRecord[];
  outcomes: TargetOutcome[];
  /** Why this run is partial beyond the config (targets that did not run). */
  partialReasons: string[];
}

const WORKLOAD_TEXT: Record<WorkloadId, string> = {
  get: `GET of one key (${READ_VALUE_BYTES}-byte value); etcd: range of that key`,
  recurse: `GET \`?recurse\` of a ${RECURSE_KEYS}-key prefix (${READ_VALUE_BYTES}-byte values); etcd: range [prefix, prefix+1)`,
  put: `PUT of ${PUT_VALUE_BYTES} fresh bytes, round robin over ${int.format(PUT_KEYS)} pre-seeded keys; etcd: put`,
  cas: 'increment of one counter: read → `PUT ?cas=ModifyIndex` with value+1, retry on `false`; etcd: range → txn(MOD == mod_revision) put, retry on not succeeded. ops/s = successful increments/s; latency includes retries',
};

export function renderReport(input: ReportInput): string {
  const { config, machine, records } = input;
  const partial = [...config.partialReasons, ...input.partialReasons];
  const out: string[] = [];
  const line = (s = ''): void => void out.push(s);
  /** `align`: a letter per leading column, `l` text or `r` figure; columns past it are figures. */
  const table = (head: string[], rows: string[][], align = 'l'): void => {
    line(`| ${head.join(' | ')} |`);
    line(`|${head.map((_, i) => ((align[i] ?? 'r') === 'r' ? '---:' : '---')).join('|')}|`);
    for (const r of rows) line(`| ${r.join(' | ')} |`);
    line();
  };

  line('# Switchboard benchmark results');
  line();
  line('Generated by `npm run bench` (bench/run.ts); see bench/README.md for what each workload does and how to read this page.');
  line();
  if (partial.length > 0) {
    line(`> **PARTIAL RUN** — these figures are not the full benchmark: ${partial.join('; ')}.`);
    line();
  }

  line('## Machine');
  line();
  table(
    ['what', 'value'],
    [
      ['date', `${input.startedAt.toISOString()} (took ${Math.round((input.finishedAt.getTime() - input.startedAt.getTime()) / 1000)} s)`],
      ['CPU', machine.cpuModel],
      ['cores', `${machine.cores} — **shared** by the load generator and the server under test`],
      ['RAM', `${(machine.ramBytes / 2 ** 30).toFixed(1)} GiB`],
      ['OS', machine.os],
      ['Node.js', machine.node],
      ['etcd', input.etcdVersion ?? 'not available'],
      ['redis-server', input.redisVersion ?? 'not available'],
      ['commit', machine.commit],
    ],
    'll',
  );

  line('## Method');
  line();
  line(`- Closed loop: *c* workers, each sending its next request as soon as the previous one answered, over a keep-alive pool of *c* connections (undici, no pipelining), from one Node.js process on the same machine. Each run: ${config.warmupSeconds} s warm-up (not counted), then ${config.seconds} s measured. Latency is per op, measured in the client; p50/p99 by nearest rank.`);
  line('- Server RSS is `VmRSS` of the server process at the end of each run. Server, load-generator and "other" CPU are over the measured window in % of one core (200% = both cores); "other" is every other process on the machine, so a large value means the figure was disturbed. Kernel time spent on loopback traffic (softirq) is in none of the three.');
  if (config.repeat > 1) line(`- Each run was repeated ${config.repeat}× and the median by ops/s is reported, with the range in parentheses.`);
  line('- Every target is its own process on a free loopback port with a fresh temp data dir, started and seeded before its runs and stopped by PID after them. Seed: the single key, the 100-key prefix, the 10,000 PUT keys and the counter.');
  for (const id of config.workloads) line(`- **${WORKLOADS[id].label}**: ${WORKLOAD_TEXT[id]}.`);
  line(`- etcd is a one-member cluster with default durability (WAL fsync per write batch), driven through its JSON gateway (\`/v3/kv/*\`), which costs it a gRPC hop compared with a native client; reads are ${config.etcdSerializable ? 'serializable (BENCH_ETCD_SERIALIZABLE=1)' : "etcd's default, linearizable"}. Switchboard runs embedded (file log, fsync before ack).`);
  line("- Redis mode: the bench starts its own redis-server (free loopback port, own temp dir, `--save '' --appendonly yes --appendfsync everysec|always`) and Switchboard node(s) with `REDIS_URL` on it; server CPU and RSS are those of the node(s) **plus** redis-server. AOF everysec acknowledges a write before it is fsynced (up to ~1 s of writes can be lost on a machine crash); always fsyncs before the reply. With 2 nodes the workers are pinned to the nodes round robin (worker i → node i mod 2), so at c=1 only one node is loaded.");
  line('- bare Nest is NestJS on Fastify with a GET route answering the single-key body from a constant and a PUT route that copies the body and answers `true`: the ceiling for a Nest route here.');
  line('- With 2 cores shared, a server that needs more than one core (etcd is multi-threaded) competes with the load generator; compare the CPU columns before reading much into small differences.');
  line();

  line('## Targets');
  line();
  const goals = evaluateGoals(records);
  table(
    ['goal', 'Switchboard', 'reference', 'ratio', 'verdict', 'note'],
    goals.map((g) => [g.goal, g.switchboard, g.reference, g.ratio, `**${g.verdict}**`, g.note]),
    'lrrrll',
  );

  line('## Every figure as a ratio');
  line();
  line('ops/s of Switchboard divided by the reference at the same workload and concurrency (> 1 means Switchboard is faster); p99 ratio is the reference p99 over Switchboard p99 (> 1 means Switchboard answers faster).');
  line();
  const ratioRows: string[][] = [];
  for (const w of config.workloads) {
    for (const c of config.concurrency) {
      const sb = find(records, 'switchboard', w, c);
      const et = find(records, 'etcd', w, c);
      const bn = find(records, 'bare-nest', w, c);
      if (!sb && !et && !bn) continue;
      ratioRows.push([
        WORKLOADS[w].label,
        String(c),
        sb ? fmtOps(sb.opsPerSec) : '—',
        et ? fmtOps(et.opsPerSec) : '—',
        sb && et ? fmtRatio(sb.opsPerSec / et.opsPerSec) : '—',
        sb && et ? fmtRatio(et.p99Ms / sb.p99Ms) : '—',
        bn ? fmtOps(bn.opsPerSec) : '—',
        sb && bn ? fmtPct((sb.opsPerSec / bn.opsPerSec) * 100) : '—',
      ]);
    }
  }
  table(['workload', 'c', 'Switchboard ops/s', 'etcd ops/s', 'ops/s ×etcd', 'p99 ×etcd', 'bare Nest ops/s', '% of bare Nest'], ratioRows);

  const redisRan = REDIS_TARGETS.filter((t) => records.some((r) => r.target === t));
  if (redisRan.length > 0) {
    line('## Redis mode as a ratio');
    line();
    line('ops/s of each Redis-mode target, and that divided by embedded Switchboard (% of embedded), by etcd (×etcd) and by bare Nest (% of bare Nest) at the same workload and concurrency.');
    line();
    const rows: string[][] = [];
    for (const w of config.workloads) {
      for (const c of config.concurrency) {
        const emb = find(records, 'switchboard', w, c);
        const et = find(records, 'etcd', w, c);
        const bn = find(records, 'bare-nest', w, c);
        for (const t of redisRan) {
          const r = find(records, t, w, c);
          if (!r) continue;
          rows.push([
            WORKLOADS[w].label,
            String(c),
            TARGET_NAMES[t],
            fmtOps(r.opsPerSec),
            fmtMs(r.p99Ms),
            emb ? fmtPct((r.opsPerSec / emb.opsPerSec) * 100) : '—',
            et ? fmtRatio(r.opsPerSec / et.opsPerSec) : '—',
            bn ? fmtPct((r.opsPerSec / bn.opsPerSec) * 100) : '—',
          ]);
        }
      }
    }
    table(['workload', 'c', 'target', 'ops/s', 'p99 ms', '% of embedded', 'ops/s ×etcd', '% of bare Nest'], rows, 'lrl');
  }

  line('## All runs');
  line();
  table(
    ['target', 'workload', 'c', 'ops/s', 'p50 ms', 'p99 ms', 'max ms', 'errors', 'CAS conflicts', 'server RSS MiB', 'server CPU', 'loadgen CPU', 'other CPU'],
    records.map((r) => [
      TARGET_NAMES[r.target],
      WORKLOADS[r.workload].label,
      String(r.concurrency),
      r.opsSpread.length > 1
        ? `${fmtOps(r.opsPerSec)} (${fmtOps(r.opsSpread[0] ?? Number.NaN)}–${fmtOps(r.opsSpread[r.opsSpread.length - 1] ?? Number.NaN)})`
        : fmtOps(r.opsPerSec),
      fmtMs(r.p50Ms),
      fmtMs(r.p99Ms),
      fmtMs(r.maxMs),
      r.aborted ? `${r.errors} (aborted)` : String(r.errors),
      r.workload === 'cas' ? int.format(r.conflicts) : '',
      fmtMiB(r.serverRssBytes),
      fmtPct(r.serverCpuPercent),
      fmtPct(r.loadgenCpuPercent),
      fmtPct(r.otherCpuPercent),
    ]),
    'll',
  );

  const cas = records.filter((r) => r.workload === 'cas');
  if (cas.length > 0) {
    line('## CAS: lost-update check');
    line();
    line('After each CAS run (all workers stopped) the counter is read back; it must equal the number of successful CAS, warm-up included. Conflicts per success shows how hard the clients fought over the key.');
    line();
    table(
      ['target', 'c', 'successes', 'final counter', 'lost updates', 'conflicts / success', 'check'],
      cas.map((r) => [
        TARGET_NAMES[r.target],
        String(r.concurrency),
        int.format(r.totalCompleted),
        r.verification?.finalValue !== undefined ? int.format(r.verification.finalValue) : '—',
        r.verification?.lostUpdates !== undefined ? String(r.verification.lostUpdates) : '—',
        r.ops > 0 ? (r.conflicts / r.ops).toFixed(2) : '—',
        r.verification ? `${r.verification.ok ? 'ok' : '**FAIL**'}: ${r.verification.detail}` : (r.aborted ?? 'not verified'),
      ]),
      'lrrrrrl',
    );
  }

  const notes = input.outcomes.filter((o) => o.notes.length > 0);
  const errored = records.filter((r) => r.errors > 0 || r.aborted);
  const noisy = records.filter((r) => r.otherCpuPercent >= NOISY_PERCENT || r.stealPercent >= NOISY_PERCENT);
  const generatorBound = records.filter((r) => r.loadgenCpuPercent >= GENERATOR_BOUND_PERCENT);
  if (notes.length > 0 || errored.length > 0 || noisy.length > 0 || generatorBound.length > 0) {
    line('## Problems and skipped targets');
    line();
    for (const o of notes) for (const n of o.notes) line(`- ${o.label} (${o.state}): ${n.replace(/\n/g, ' ')}`);
    for (const r of errored) {
      line(`- ${TARGET_NAMES[r.target]} ${WORKLOADS[r.workload].label} c=${r.concurrency}: ${r.errors} errors${r.aborted ? ', aborted' : ''}; first: ${r.firstError ?? '?'}`);
    }
    if (noisy.length > 0) {
      line(
        `- Noisy machine: other processes used ≥ ${NOISY_PERCENT}% of a core (or the hypervisor stole it) during ${noisy.length} of ${records.length} runs: ` +
          noisy.map((r) => `${TARGET_NAMES[r.target]} ${WORKLOADS[r.workload].label} c=${r.concurrency} (other ${fmtPct(r.otherCpuPercent)}, steal ${fmtPct(r.stealPercent)})`).join(', ') +
          '. Re-run on a quiet machine, or with BENCH_REPEAT=3, before trusting those figures.',
      );
    }
    if (generatorBound.length > 0) {
      line(
        `- Generator-bound: the load generator used ≥ ${GENERATOR_BOUND_PERCENT}% of a core in ` +
          generatorBound.map((r) => `${TARGET_NAMES[r.target]} ${WORKLOADS[r.workload].label} c=${r.concurrency}`).join(', ') +
          '. There the server may have had headroom left; ratios between such runs (e.g. % of bare Nest) are pulled towards 1.',
      );
    }
    line();
  }
  return out.join('\n');
}
