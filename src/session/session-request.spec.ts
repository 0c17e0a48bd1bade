import { consulFailure as failure } from '../common/consul-error-fixture.js';
import { SERF_HEALTH, isSessionId, parseSessionCreate, parseSessionId, type SessionSettings } from './session-request.js';

const NODE = 'switchboard-1';

function create(body: string | object): SessionSettings {
  return parseSessionCreate(Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)), NODE);
}


const DEFAULTS: SessionSettings = {
  name: '',
  node: NODE,
  ttl: '',
  ttlMs: 0,
  behavior: 'release',
  lockDelayMs: 15_000,
  nodeChecks: [SERF_HEALTH],
  serviceChecks: null,
};

describe(parseSessionCreate.name, () => {
  it.each(['', '   ', ' \r\n\t', 'null', '{}'])('body %j means all defaults (§1.6)', (body) => {
    expect(create(body)).toEqual(DEFAULTS);
  });

  it("reads python-consul's lower-case body", () => {
    expect(create({ ttl: '15.0s', behavior: 'delete', lockdelay: '0.001s' })).toEqual({
      ...DEFAULTS,
      ttl: '15.0s',
      ttlMs: 15_000,
      behavior: 'delete',
      lockDelayMs: 1,
    });
  });

  it("reads node-consul's PascalCase body; Checks: [] drops serfHealth", () => {
    expect(create({ LockDelay: '1s', Name: 'n', Checks: [], Behavior: 'delete', TTL: '15s' })).toEqual({
      ...DEFAULTS,
      name: 'n',
      ttl: '15s',
      ttlMs: 15_000,
      behavior: 'delete',
      lockDelayMs: 1000,
      nodeChecks: [],
    });
  });

  it('matches any casing, the last duplicate winning like Go', () => {
    expect(create('{"nAmE":"a","TtL":"20s","ttl":"30s","NODE":"other"}')).toMatchObject({ name: 'a', ttl: '30s', ttlMs: 30_000, node: 'other' });
  });

  it('ignores unknown fields, as Consul\'s session decoder does (§1.6)', () => {
    expect(create({ Name: 'x', Whatever: [1, 2], ID: 'mine' })).toEqual({ ...DEFAULTS, name: 'x' });
  });

  it('takes any non-empty node and falls back to the default for "" and null', () => {
    expect(create({ Node: 'nope' }).node).toBe('nope');
    expect(create({ Node: '' }).node).toBe(NODE);
    expect(create({ Node: null, Name: null }).node).toBe(NODE);
  });

  describe('LockDelay', () => {
    it.each([
      ['"15s"', 15_000],
      ['"0.001s"', 1],
      ['"0"', 0],
      ['"0s"', 0],
      ['"1m30s"', 60_000],
      ['"-5s"', 0],
      ['5', 5000],
      ['5.9', 5000],
      ['0', 0],
      ['999', 60_000],
      ['1000', 0.001],
      ['5000', 0.005],
      ['15000000000', 15_000],
      ['120000000000', 60_000],
      ['null', 15_000],
    ])('%s → %d ms', (json, ms) => {
      expect(create(`{"LockDelay":${json}}`).lockDelayMs).toBeCloseTo(ms, 9);
    });

    it.each([
      ['"5"', 'time: missing unit in duration "5"'],
      ['"5x"', 'time: unknown unit "x" in duration "5x"'],
      ['"soon"', 'time: invalid duration "soon"'],
      ['true', 'json: cannot unmarshal bool into Go struct field Session.LockDelay of type time.Duration'],
    ])('%s → 400', (json, reason) => {
      expect(failure(() => create(`{"lockdelay":${json}}`))).toEqual({ status: 400, message: `Request decode failed: ${reason}` });
    });
  });

  describe('Behavior', () => {
    it.each([
      ['release', 'release'],
      ['delete', 'delete'],
      ['', 'release'],
    ])('%j → %s', (behavior, expected) => {
      expect(create({ Behavior: behavior }).behavior).toBe(expected);
    });

    it.each(['Delete', 'RELEASE', 'destroy'])('%j → 400 (Consul: 500)', (behavior) => {
      expect(failure(() => create({ behavior }))).toEqual({ status: 400, message: `Invalid Behavior setting '${behavior}'` });
    });
  });

  describe('TTL', () => {
    it.each([
      ['10s', 10_000],
      ['15.0s', 15_000],
      ['24h', 86_400_000],
      ['1h30m', 5_400_000],
    ])('%j is kept as written, %d ms', (ttl, ttlMs) => {
      expect(create({ TTL: ttl })).toMatchObject({ ttl, ttlMs });
    });

    it.each(['', '0', '0s', '-0s', '0.0h'])('%j means no TTL', (ttl) => {
      expect(create({ TTL: ttl })).toMatchObject({ ttl: '', ttlMs: 0 });
    });

    it.each([
      ['5s', '5000000000'],
      ['25h', '90000000000000'],
      ['9.999s', '9999000000'],
      ['-15s', '-15000000000'],
    ])('%j → 500 with the nanosecond count Patroni matches', (ttl, ns) => {
      expect(failure(() => create({ ttl }))).toEqual({
        status: 500,
        message: `Invalid Session TTL '${ns}', must be between [10s=24h0m0s]`,
      });
    });

    it('an unparsable TTL → 500 with Go\'s error', () => {
      expect(failure(() => create({ TTL: 'soon' }))).toEqual({
        status: 500,
        message: `Session TTL 'soon' invalid: time: invalid duration "soon"`,
      });
      expect(failure(() => create({ TTL: '30' }))).toEqual({
        status: 500,
        message: `Session TTL '30' invalid: time: missing unit in duration "30"`,
      });
    });

    it('a number TTL → 400 decode error', () => {
      expect(failure(() => create('{"TTL":30}'))).toEqual({
        status: 400,
        message: 'Request decode failed: json: cannot unmarshal number into Go struct field Session.TTL of type string',
      });
    });
  });

  describe('checks (Consul merges legacy Checks into NodeChecks)', () => {
    it.each([
      [{}, [SERF_HEALTH]],
      [{ Checks: [] }, []],
      [{ checks: null }, []],
      [{ NodeChecks: [] }, []],
      [{ Checks: [SERF_HEALTH] }, [SERF_HEALTH]],
      [{ NodeChecks: [SERF_HEALTH] }, [SERF_HEALTH]],
      [{ Checks: [], NodeChecks: [SERF_HEALTH] }, []],
      [{ Checks: [SERF_HEALTH], NodeChecks: [] }, []],
      [{ Checks: [SERF_HEALTH], NodeChecks: [SERF_HEALTH] }, [SERF_HEALTH]],
    ])('%j → nodeChecks %j', (body, nodeChecks) => {
      expect(create(body).nodeChecks).toEqual(nodeChecks);
    });

    it.each([
      [{ Checks: ['service:web'] }, 'service:web'],
      [{ NodeChecks: [SERF_HEALTH, 'disk'] }, 'disk'],
      [{ checks: ['serfhealth'] }, 'serfhealth'],
    ])('%j → 400 for the missing check', (body, id) => {
      expect(failure(() => create(body))).toEqual({ status: 400, message: `Missing check '${id}' registration` });
    });

    it('ServiceChecks: empty or null → null; any entry → 400', () => {
      expect(create({ ServiceChecks: [] }).serviceChecks).toBeNull();
      expect(create({ ServiceChecks: null }).serviceChecks).toBeNull();
      expect(failure(() => create({ servicechecks: [{ id: 'web-check', NAMESPACE: 'default' }] }))).toEqual({
        status: 400,
        message: "Missing service check 'web-check' registration",
      });
    });

    it('a wrongly typed check list → 400 decode error', () => {
      expect(failure(() => create({ Checks: 'serfHealth' }))).toMatchObject({ status: 400, message: expect.stringMatching(/^Request decode failed: json: cannot unmarshal string/) });
      expect(failure(() => create({ NodeChecks: [1] }))).toMatchObject({ status: 400 });
      expect(failure(() => create({ ServiceChecks: [{ ID: 7 }] }))).toMatchObject({ status: 400 });
    });
  });

  it.each([
    ['{"Name":5}', 'json: cannot unmarshal number into Go struct field Session.Name of type string'],
    ['[1]', 'json: cannot unmarshal array into Go value of type structs.Session'],
    ['"x"', 'json: cannot unmarshal string into Go value of type structs.Session'],
    ['nope', "invalid character 'o' in literal null (expecting 'u')"],
    ['{"Name":"a"', 'unexpected end of JSON input'],
    ['{"Name":"a"} x', "invalid character 'x' after top-level value"],
  ])('%s → 400 decode error', (body, reason) => {
    expect(failure(() => create(body))).toEqual({ status: 400, message: `Request decode failed: ${reason}` });
  });

  it('reports decode errors before semantic ones', () => {
    expect(failure(() => create({ TTL: '5s', Name: 5 }))).toMatchObject({ status: 400 });
  });
});

describe(isSessionId.name, () => {
  it.each(['adf4238a-882b-9ddc-4a9d-5b6758e4159e', 'ADF4238A-882B-9DDC-4A9D-5B6758E4159E', '00000000-0000-0000-0000-000000000000'])('%s is one', (id) => {
    expect(isSessionId(id)).toBe(true);
  });

  it.each(['', 'nope', 'adf4238a882b9ddc4a9d5b6758e4159e', 'adf4238a-882b-9ddc-4a9d-5b6758e4159', 'adf4238a-882b-9ddc-4a9d-5b6758e4159e0', 'gdf4238a-882b-9ddc-4a9d-5b6758e4159e', '{adf4238a-882b-9ddc-4a9d-5b6758e4159e}'])(
    '%j is not',
    (id) => {
      expect(isSessionId(id)).toBe(false);
    },
  );
});

describe(parseSessionId.name, () => {
  it('returns the id lower-cased', () => {
    expect(parseSessionId('ADF4238A-882B-9DDC-4A9D-5B6758E4159E')).toBe('adf4238a-882b-9ddc-4a9d-5b6758e4159e');
  });

  it.each([undefined, ''])('%j → 400 Missing session', (raw) => {
    expect(failure(() => parseSessionId(raw))).toEqual({ status: 400, message: 'Missing session' });
  });

  it('a malformed id → 400', () => {
    expect(failure(() => parseSessionId('nope'))).toEqual({ status: 400, message: 'Invalid session id "nope": must be a UUID' });
  });
});
