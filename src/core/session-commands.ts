import type {
  CommandResult,
  SessionCreateCommand,
  SessionDestroyCommand,
  SessionRenewCommand,
} from './commands.js';
import { deleteKey, kvEntry, writeEntry, type WriteBatch } from './kv-writes.js';
import { sessionRecord, type Session } from './sessions.js';
import type { Store } from './store.js';

/**
 * Session commands. Time is the entry's: a session's deadline is log time, so every replica
 * expires it at the same entry whatever its own clock says (DESIGN.md §1).
 */

export function applySessionCreate(store: Store, batch: WriteBatch, command: SessionCreateCommand): CommandResult {
  // Ids are 122 random bits minted by the proposer; a clash means a duplicated proposal.
  if (store.sessions.get(command.id) !== undefined) return { ok: false };
  const session = sessionRecord({
    ...command,
    createIndex: batch.seq,
    deadline: command.expiryMs > 0 ? batch.time + command.expiryMs : 0,
  });
  store.sessions.create(session, batch.seq);
  return { ok: true, session };
}

export function applySessionRenew(store: Store, batch: WriteBatch, command: SessionRenewCommand): CommandResult {
  const session = store.sessions.renew(command.id, batch.time);
  return session === undefined ? { ok: false } : { ok: true, session };
}

/** Destroying an unknown session is fine (Consul answers `true`): it is already gone. */
export function applySessionDestroy(store: Store, batch: WriteBatch, command: SessionDestroyCommand): CommandResult {
  const session = store.sessions.get(command.id);
  if (session !== undefined) invalidateSession(store, batch, session);
  return { ok: true };
}

/** Runs before every entry's own command (except a re-arm): sessions past their deadline go. */
export function expireOverdueSessions(store: Store, batch: WriteBatch): void {
  for (const session of store.sessions.overdue(batch.time)) invalidateSession(store, batch, session);
}

/**
 * API.md §6.6: every key the session holds is released (Session cleared, value kept) or deleted
 * per its Behavior, and gets a lock-delay window from now; then the session is gone.
 */
function invalidateSession(store: Store, batch: WriteBatch, session: Session): void {
  for (const key of store.tree.heldBy(session.id)) {
    if (session.lockDelayMs > 0) store.lockDelays.hold(key, batch.time + session.lockDelayMs);
    if (session.behavior === 'delete') {
      deleteKey(store, batch, key);
      continue;
    }
    const held = store.tree.get(key);
    if (held !== undefined) {
      writeEntry(store, batch, kvEntry(key, held.value, held.flags, held.createIndex, batch.seq, held.lockIndex));
    }
  }
  store.sessions.remove(session.id, batch.seq);
}
