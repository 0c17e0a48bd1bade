import { describe, expect, it } from '@jest/globals';
import { StateMachine } from './state-machine.js';
import { applyAll, set } from './testing.js';

function machineWith(keys: readonly string[]): StateMachine {
  const machine = new StateMachine({ historyLimit: 100, versionsPerKey: 1 });
  applyAll(
    machine,
    keys.map((key) => set(key, 'v')),
  );
  return machine;
}

const web = ['web/bar', 'web/foo', 'web/sub/x', 'web/sub/y', 'website'];

describe('keys(prefix, separator) — API.md §5.2.3', () => {
  it.each([
    // §5.2.3 example
    [web, 'web/', '/', ['web/bar', 'web/foo', 'web/sub/']],
    [web, 'web', '/', ['web/', 'website']],
    [web, 'web', undefined, web],
    [web, 'web', '', web],
    [web, '', '/', ['web/', 'website']],
    [web, 'web/sub/', '/', ['web/sub/x', 'web/sub/y']],
    [web, 'web/sub', '/', ['web/sub/']],
    [web, 'nope', '/', []],
    [[], '', undefined, []],
    // §14 item 8
    [['web/bar', 'web/sub/x', 'website'], 'web', '/', ['web/', 'website']],
    [['web/bar', 'web/sub/x', 'website'], 'web/', '/', ['web/bar', 'web/sub/']],
    // A key equal to the folded form is listed once.
    [['web/', 'web/a', 'web/b/c'], 'web', '/', ['web/']],
    [['web/', 'web/a', 'web/b/c'], 'web/', '/', ['web/', 'web/a', 'web/b/']],
    // Separators inside the prefix do not count.
    [['a/b/c', 'a/b/d', 'a/c'], 'a/', '/', ['a/b/', 'a/c']],
    [['a/b/c'], 'a/b/', '/', ['a/b/c']],
    // Multi-character separators.
    [['a::b::c', 'a::d', 'a:e', 'a::'], 'a', '::', ['a::', 'a:e']],
    [['a::b::c', 'a::b::d', 'a::d', 'a:e'], 'a::', '::', ['a::b::', 'a::d']],
    // Folding keeps key order between folded and unfolded keys.
    [['a-b', 'a/x', 'a/y', 'a0'], 'a', '/', ['a-b', 'a/', 'a0']],
  ])('keys %j, prefix %j, separator %j → %j', (keys, prefix, separator, expected) => {
    expect(machineWith(keys).keys(prefix, separator)).toEqual(expected);
  });
});

describe('list(prefix)', () => {
  it.each([
    ['web', ['web/bar', 'web/foo', 'web/sub/x', 'web/sub/y', 'website']],
    ['web/sub/', ['web/sub/x', 'web/sub/y']],
    ['web/sub/x', ['web/sub/x']],
    ['web/sub/xx', []],
    ['', web],
  ])('is a plain string prefix: %j → %j', (prefix, expected) => {
    expect(machineWith([...web].reverse()).list(prefix).map((entry) => entry.key)).toEqual(expected);
  });

  it('sorts byte-wise, with astral characters after U+E000–U+FFFF', () => {
    const keys = ['\u{1F600}', 'z', '\uFFFD', 'a', 'é', '\uE000', 'a/\u{10000}', 'a/\uFFFF'];
    const byBytes = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    const machine = machineWith(keys);
    expect(byBytes).toEqual(['a', 'a/\uFFFF', 'a/\u{10000}', 'z', 'é', '\uE000', '\uFFFD', '\u{1F600}']);
    expect(machine.list('').map((entry) => entry.key)).toEqual(byBytes);
    expect(machine.keys('')).toEqual(byBytes);
    expect(machine.keys('a/')).toEqual(['a/\uFFFF', 'a/\u{10000}']);
  });

  it('reads a 100-key prefix of a 100k-key store as a range scan', () => {
    const machine = new StateMachine({ historyLimit: 10, versionsPerKey: 1 });
    const keys = Array.from({ length: 100_000 }, (_, i) => `svc${String(i % 1000).padStart(3, '0')}/k${String(i).padStart(6, '0')}`);
    applyAll(
      machine,
      keys.map((key) => set(key, '')),
    );
    const started = process.hrtime.bigint();
    for (let round = 0; round < 2000; round++) expect(machine.list('svc042/')).toHaveLength(100);
    const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
    // A full scan per read would be 2·10^8 key checks (seconds); a range scan is ~2·10^5.
    expect(elapsedMs).toBeLessThan(1500);
  });
});
