import { describe, expect, it } from '@jest/globals';
import type { ChangeEvent } from './entry.js';
import { KvTree } from './kv-tree.js';
import { deleteKey, kvEntry, setValue, writeEntry, type KvStore, type WriteBatch } from './kv-writes.js';
import { Tombstones } from './tombstones.js';
import { VersionStore } from './versions.js';

function emptyStore(): KvStore {
  return { tree: new KvTree(), tombstones: new Tombstones(), versions: new VersionStore(5) };
}

function batch(seq: number): WriteBatch {
  return { seq, time: seq * 1000, events: [] as ChangeEvent[] };
}

// Lock commands arrive with sessions; until then a locked entry is written directly.
function lockedStore(): KvStore {
  const store = emptyStore();
  writeEntry(store, batch(3), kvEntry('k', Buffer.from('held'), 1n, 3, 3, 4, 'session-1'));
  return store;
}

describe('setValue on an existing entry', () => {
  it.each([
    ['new value', Buffer.from('next'), 1n],
    ['new flags', Buffer.from('held'), 2n],
    ['both', Buffer.from(''), 3304740253564472344n],
  ])('%s keeps CreateIndex, Session and LockIndex', (_case, value, flags) => {
    const store = lockedStore();
    const write = batch(9);
    setValue(store, write, 'k', value, flags);
    expect(store.tree.get('k')).toEqual({
      key: 'k',
      value,
      flags,
      createIndex: 3,
      modifyIndex: 9,
      lockIndex: 4,
      session: 'session-1',
    });
    expect(write.events).toHaveLength(1);
  });

  it('is a no-op for identical value and flags even on a locked key', () => {
    const store = lockedStore();
    const write = batch(9);
    setValue(store, write, 'k', Buffer.from('held'), 1n);
    expect(write.events).toEqual([]);
    expect(store.tree.get('k')?.modifyIndex).toBe(3);
    expect(store.tree.tableIndex).toBe(3);
  });
});

describe('deleteKey', () => {
  it('carries the LockIndex into the delete event but not the Session', () => {
    const store = lockedStore();
    const write = batch(10);
    deleteKey(store, write, 'k');
    expect(write.events[0]?.entry).toEqual(kvEntry('k', Buffer.alloc(0), 0n, 3, 10, 4));
    expect(write.events[0]?.prev?.session).toBe('session-1');
    expect(store.tombstones.get('k')).toBe(10);
  });

  it('lets one batch delete and recreate a key (txn shape): the tombstone goes again', () => {
    const store = lockedStore();
    const write = batch(11);
    deleteKey(store, write, 'k');
    setValue(store, write, 'k', Buffer.from('again'), 0n);
    expect(write.events.map((event) => event.type)).toEqual(['delete', 'put']);
    expect(store.tombstones.get('k')).toBeUndefined();
    expect(store.tree.get('k')).toEqual(kvEntry('k', Buffer.from('again'), 0n, 11, 11, 0));
  });
});
