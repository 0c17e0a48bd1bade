import type { EventsMessage } from '../../src/protocol/watch-protocol.js';
import { type HistoryEvent, watchViolations } from '../helpers/watch-validator.js';

const recorded = (index: number, key: string): HistoryEvent => ({
  Type: 'put', Key: key, Value: null, Flags: 0, CreateIndex: index, ModifyIndex: index, LockIndex: 0, Session: null, PrevValue: null, PrevModifyIndex: 0,
});
const watched = (index: number, ...keys: string[]): EventsMessage => ({
  id: 1,
  index,
  events: keys.map((key) => ({ Index: index, Type: 'put', Key: key, Value: null, Flags: '0', CreateIndex: index, ModifyIndex: index, LockIndex: 0, Session: null })),
});

// Indexes 2, 3 (two keys), 5.
const history = [recorded(2, 'a'), recorded(3, 'a'), recorded(3, 'b'), recorded(5, 'a')];

/** The validator the stream tests rely on must itself catch every broken guarantee. */
describe(watchViolations.name, () => {
  it('passes a correct stream, split across a resume', () => {
    expect(watchViolations([[watched(2, 'a'), watched(3, 'a', 'b')], [watched(5, 'a')]], history, 2)).toEqual([]);
  });

  it.each([
    ['ordered', [[watched(3, 'a', 'b'), watched(2, 'a'), watched(5, 'a')]]],
    ['unique', [[watched(2, 'a'), watched(2, 'a'), watched(3, 'a', 'b'), watched(5, 'a')]]],
    ['atomic', [[watched(2, 'a'), watched(3, 'a'), watched(3, 'b'), watched(5, 'a')]]],
    ['reliable', [[watched(2, 'a'), watched(5, 'a')]]],
    ['resumable', [[watched(2, 'a')], [watched(5, 'a')]]],
  ])('reports a stream that breaks %s', (guarantee, segments) => {
    expect(watchViolations(segments, history, 2)).toContainEqual(expect.stringMatching(new RegExp(`^${guarantee}: `)));
  });
});
