import { describe, expect, it } from '@jest/globals';
import { parseSubscribe, parseUnsubscribe } from './watch-requests.js';

describe(parseSubscribe.name, () => {
  it.each([
    [{ key: 'a' }, { key: 'a', recurse: undefined, fromIndex: undefined, prev: undefined }],
    [{ key: '', recurse: true, fromIndex: 0, prev: true }, { key: '', recurse: true, fromIndex: 0, prev: true }],
    [{ key: 'app/', recurse: true, fromIndex: 42 }, { key: 'app/', recurse: true, fromIndex: 42, prev: undefined }],
  ])('accepts %j', (payload, request) => {
    expect(parseSubscribe(payload)).toEqual({ ok: true, request });
  });

  it.each([
    [undefined, /expects an object/],
    ['a', /expects an object/],
    [['a'], /expects an object/],
    [null, /expects an object/],
    [{}, /key must be a string/],
    [{ key: 5 }, /key must be a string/],
    [{ key: 'a', recurse: 'yes' }, /recurse must be a boolean/],
    [{ key: 'a', prev: 1 }, /prev must be a boolean/],
    [{ key: 'a', fromIndex: -1 }, /fromIndex must be a non-negative integer/],
    [{ key: 'a', fromIndex: 1.5 }, /fromIndex must be a non-negative integer/],
    [{ key: 'a', fromIndex: '3' }, /fromIndex must be a non-negative integer/],
    [{ key: 'a', fromIndex: 2 ** 60 }, /fromIndex must be a non-negative integer/],
    [{ key: '' }, /Missing key name/],
    [{ key: 'a//b' }, /path segments/],
    [{ key: 'a/../b', recurse: true }, /path segments/],
    [{ key: 'a\u0001' }, /control characters/],
    [{ key: 'a', recursive: true }, /unknown field "recursive"/],
  ])('refuses %j with a one-line reason', (payload, reason) => {
    const parsed = parseSubscribe(payload);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.error).toMatch(reason);
      expect(parsed.error).not.toContain('\n');
    }
  });
});

describe(parseUnsubscribe.name, () => {
  it('takes {id} and refuses anything else', () => {
    expect(parseUnsubscribe({ id: 3 })).toEqual({ ok: true, request: { id: 3 } });
    for (const payload of [undefined, 3, { id: '3' }, { id: 1.5 }]) expect(parseUnsubscribe(payload).ok).toBe(false);
  });
});
