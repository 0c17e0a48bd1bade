export type SessionBehavior = 'release' | 'delete';
export interface ServiceCheckRef { readonly id: string; readonly namespace: string; }
export interface SessionCreateCommand {
  readonly type: 'session.create';
  readonly id: string;            // minted by the proposer (not your job)
  readonly name: string;
  readonly node: string;
  readonly ttl: string;           // the TTL exactly as the client wrote it ("15.0s"), "" for none
  readonly ttlMs: number;         // 0 for none
  readonly expiryMs: number;      // ttlMs × multiplier (not your job)
  readonly behavior: SessionBehavior;
  readonly lockDelayMs: number;   // already capped at 60 s and converted; 0 disables
  readonly nodeChecks: readonly string[] | null;
  readonly serviceChecks: readonly ServiceCheckRef[] | null;
}
export type TxnVerb = 'set' | 'cas' | 'lock' | 'unlock' | 'get' | 'get-or-empty' | 'get-tree' | 'check-index' | 'check-session' | 'check-not-exists' | 'delete' | 'delete-tree' | 'delete-cas';
export interface TxnOp { readonly verb: TxnVerb; readonly key: string; readonly value: Buffer; readonly flags: bigint; readonly index: number; readonly session: string; }
export interface TxnError { readonly opIndex: number; readonly what: string; }
