import { ConfigValueError, parseConfigValue } from './config-value.js';
import type { ConfigValueFormat } from './switchboard-config.options.js';

describe('parseConfigValue', () => {
  it.each<[ConfigValueFormat, string, unknown]>([
    ['string', 'postgres://db:5432/orders', 'postgres://db:5432/orders'],
    ['string', '{not json', '{not json'],
    ['json', '{"pool":{"max":20}}', { pool: { max: 20 } }],
    ['json', '"text"', 'text'],
    ['yaml', 'pool:\n  max: 20\n', { pool: { max: 20 } }],
    ['yaml', '', null],
  ])('%s %j → %j', (format, text, expected) => {
    expect(parseConfigValue('k', Buffer.from(text), format)).toEqual(expected);
  });

  it('freezes parsed objects all the way down, since every reader shares them', () => {
    const value = parseConfigValue('k', Buffer.from('{"pool":{"max":20},"hosts":["a"]}'), 'json') as { pool: object; hosts: string[] };
    expect(Object.isFrozen(value) && Object.isFrozen(value.pool) && Object.isFrozen(value.hosts)).toBe(true);
  });

  it.each<[ConfigValueFormat, string, RegExp]>([
    ['json', '{"pool":', /^"db" is not valid json: .+$/],
    ['yaml', 'pool: [a\n', /^"db" is not valid yaml: [^\n]+[^:]$/],
  ])('refuses bad %s with a ConfigValueError of one line', (format, text, message) => {
    const parse = (): unknown => parseConfigValue('db', Buffer.from(text), format);
    expect(parse).toThrow(ConfigValueError);
    expect(parse).toThrow(message);
  });
});
