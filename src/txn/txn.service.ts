import { Injectable } from '@nestjs/common';
import { txnOutcomeJson } from '../common/consul-json.js';
import type { ConsulQuery } from '../common/consul-query.js';
import { TXN_WRITE_VERBS, type TxnOutcome } from '../core/commands.js';
import type { TxnRun } from '../core/txn.js';
import type { LogHealth } from '../log/replicated-log.js';
import { Replica } from '../replica/replica.js';
import { parseTxn } from './txn-request.js';

export interface TxnAnswer {
  /** 200 committed (or a read-only txn without errors), 409 rolled back (API.md §8.5). */
  readonly status: 200 | 409;
  readonly json: string;
  /** Read-only txns carry X-Consul-KnownLeader / X-Consul-LastContact; write txns nothing. */
  readonly health?: LogHealth;
}

/** PUT /v1/txn (API.md §8): all operations as one log entry, or none of them. */
@Injectable()
export class TxnService {
  constructor(private readonly replica: Replica) {}

  async run(body: Buffer, query: ConsulQuery): Promise<TxnAnswer> {
    const { ops, opIndexes, errors } = parseTxn(body);
    if (errors.length > 0) return answer({ committed: false, errors });
    // Ops run without the skipped (empty) elements; errors must name request positions.
    const inRequest = (outcome: TxnOutcome): TxnOutcome =>
      outcome.committed
        ? outcome
        : { committed: false, errors: outcome.errors.map((error) => ({ ...error, opIndex: opIndexes[error.opIndex] ?? error.opIndex })) };
    if (!ops.some((op) => TXN_WRITE_VERBS.has(op.verb))) {
      // Read-only: no log entry; ?consistent first catches up with the log, like a KV read.
      if (query.consistency() === 'consistent') await this.replica.readBarrier();
      return { ...answer(inRequest(outcomeOf(this.replica.state.trialTxn(ops)))), health: this.replica.health() };
    }
    // A failure that holds against every write acknowledged so far is answered without an
    // entry, so a failed txn consumes no index. Only what passes this trial goes to the log,
    // where apply has the last word (a write may still slip in between).
    await this.replica.readBarrier();
    const trial = this.replica.state.trialTxn(ops);
    if (trial.errors.length > 0) return answer(inRequest(outcomeOf(trial)));
    const result = await this.replica.propose({ type: 'txn', ops });
    if (result.txn === undefined) throw new Error('a txn entry was applied without a txn outcome');
    return answer(inRequest(result.txn));
  }
}

function outcomeOf(run: TxnRun): TxnOutcome {
  return run.errors.length > 0 ? { committed: false, errors: run.errors } : { committed: true, results: run.results };
}

function answer(outcome: TxnOutcome): TxnAnswer {
  return { status: outcome.committed ? 200 : 409, json: txnOutcomeJson(outcome) };
}
