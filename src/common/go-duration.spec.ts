import { goDurationError, parseGoDuration } from './go-duration.js';

describe(parseGoDuration.name, () => {
  it.each([
    ['0', 0],
    ['9.87s', 9870],
    ['9.902495861053467s', 9902.495861053467],
    ['60000ms', 60_000],
    ['15.0s', 15_000],
    ['0.001s', 1],
    ['1h30m', 5_400_000],
    ['1.5h', 5_400_000],
    ['500us', 0.5],
    ['500µs', 0.5],
    ['500μs', 0.5],
    ['1000000ns', 1],
    ['.5s', 500],
    ['5.s', 5000],
    ['-1s', -1000],
    ['+2m', 120_000],
  ])('%s → %d ms', (text, ms) => {
    expect(parseGoDuration(text)).toBeCloseTo(ms, 9);
  });

  it.each(['', '5', '15', 's', '1d', '10x', '1.2.3s', 'abc', '1s ', ' 1s', '-', '1sm', '.s'])('%j is not a duration', (text) => {
    expect(parseGoDuration(text)).toBeUndefined();
  });
});

describe(goDurationError.name, () => {
  it.each([
    ['', 'time: invalid duration ""'],
    ['-', 'time: invalid duration "-"'],
    ['5', 'time: missing unit in duration "5"'],
    ['1s5', 'time: missing unit in duration "1s5"'],
    ['1d', 'time: unknown unit "d" in duration "1d"'],
    ['1s 2s', 'time: unknown unit "s " in duration "1s 2s"'],
    ['abc', 'time: invalid duration "abc"'],
    ['.s', 'time: invalid duration ".s"'],
    ['1.2.3s', 'time: missing unit in duration "1.2.3s"'],
  ])('%j → %s', (text, message) => {
    expect(goDurationError(text)).toBe(message);
  });
});
