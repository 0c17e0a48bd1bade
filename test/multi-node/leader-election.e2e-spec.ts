import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Cluster } from '../helpers/cluster.js';
import { rawRequest } from '../helpers/http.js';
import { waitFor } from '../helpers/wait-for.js';
import { type HistoryEvent, historyAfter } from '../helpers/watch-validator.js';

const KEY = 'service/orders/leader';
const TTL_MS = 10_000;
const LOCK_DELAY_MS = 1_000;

interface CandidateEvent {
  readonly event: 'session' | 'elected' | 'error';
  readonly name: string;
  readonly session?: string;
  readonly lockIndex?: number;
}

interface Candidate {
  readonly name: string;
  readonly process: ChildProcess;
  readonly events: CandidateEvent[];
  readonly exited: Promise<unknown>;
}

/** Every candidate's events in the order they were printed. */
const timeline: CandidateEvent[] = [];

function startCandidate(name: string, url: string): Candidate {
  const child = spawn(process.execPath, ['test/multi-node/election-candidate.mjs', url, name, KEY], { stdio: ['ignore', 'pipe', 'inherit'] });
  const events: CandidateEvent[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    const event = JSON.parse(line) as CandidateEvent;
    events.push(event);
    timeline.push(event);
  });
  return { name, process: child, events, exited: new Promise((resolve) => child.once('exit', resolve)) };
}

async function holder(url: string): Promise<string | undefined> {
  const res = await rawRequest(url, `/v1/kv/${KEY}?consistent`);
  return res.status === 404 ? undefined : (JSON.parse(res.text) as { Session?: string }[])[0]?.Session;
}

/**
 * Leader election in distributed mode: three candidate processes, each with the `consul` npm
 * client against a different node, compete for one key. The history proves one holder at a time
 * with LockIndex rising per new holder, and killing the leader's process hands the key on within
 * TTL × multiplier + lock-delay + 2 s.
 */
describe('leader election across three nodes', () => {
  let cluster: Cluster;
  const candidates: Candidate[] = [];

  beforeAll(async () => {
    cluster = await Cluster.start(['a', 'b', 'c'], { env: { SESSION_TTL_MULTIPLIER: '1' } });
  }, 60_000);
  afterAll(async () => {
    for (const candidate of candidates) candidate.process.kill('SIGKILL');
    await Promise.all(candidates.map((candidate) => candidate.exited));
    await cluster?.dispose();
  });

  it('elects one leader at a time and fails over within the bound after kill -9', async () => {
    for (const name of cluster.names) candidates.push(startCandidate(`candidate-${name}`, cluster.url(name)));
    const elected = (): CandidateEvent[] => timeline.filter((event) => event.event === 'elected');
    await waitFor(() => elected().length === 1, 20_000, 'a first leader');
    const first = elected()[0]!;
    const leader = candidates.find((candidate) => candidate.name === first.name)!;

    // Standbys keep trying for a while (several renewals) without taking the key.
    await waitFor(() => candidates.every((c) => c.events.some((e) => e.event === 'session')), 10_000, 'every candidate has a session');
    expect(await holder(cluster.url('a'))).toBe(first.session);

    leader.process.kill('SIGKILL');
    const killedAt = Date.now();
    await leader.exited;
    await waitFor(async () => {
      const now = await holder(cluster.url('b'));
      return now !== undefined && now !== first.session;
    }, TTL_MS + LOCK_DELAY_MS + 2_000, 'a new leader after the kill');
    const failover = Date.now() - killedAt;
    expect(failover).toBeLessThanOrEqual(TTL_MS + LOCK_DELAY_MS + 2_000);
    await waitFor(() => elected().length === 2, 5_000, 'the new leader reports');
    const second = elected()[1]!;
    expect(second.name).not.toBe(first.name);
    expect(second.lockIndex).toBe(first.lockIndex! + 1);

    // Every node applied the same history for the key, expiry included.
    const histories = await Promise.all(cluster.names.map((name) => historyAfter(cluster.url(name), KEY, false, 0)));
    for (const history of histories.slice(1)) expect(history).toEqual(histories[0]);
    const events = histories[0]!;
    let current: HistoryEvent | undefined;
    let holders = 0;
    for (const event of events) {
      if (event.Type === 'put' && event.Session !== null && event.Session !== current?.Session) {
        // A new holder only ever follows a key nobody holds: never two holders, never a handover.
        expect(current?.Session ?? null).toBeNull();
        expect(event.LockIndex).toBe((current?.LockIndex ?? 0) + 1);
        holders++;
      }
      current = event.Type === 'delete' ? undefined : event;
    }
    expect(holders).toBe(2);
  }, 90_000);
});
