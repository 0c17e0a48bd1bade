import { readFileSync } from 'node:fs';
import { CompactedError, ERROR_CODES, fromResponse, TxnFailedError } from './errors.js';

describe('fromResponse rebuilds errors from the wire', () => {
  it.each([
    [400, 'Missing key name', 'BAD_REQUEST'],
    [403, 'Permission denied', 'PERMISSION_DENIED'],
    [404, '', 'NOT_FOUND'],
    [413, 'Request body(600000 bytes) too large', 'TOO_LARGE'],
    [500, 'invalid session "0f0e"', 'INVALID_SESSION'],
    [400, 'invalid session "bad"', 'INVALID_SESSION'],
    [429, '', 'UNAVAILABLE'],
    [503, 'log unavailable', 'UNAVAILABLE'],
    [500, 'boom', 'SERVER_ERROR'],
    [418, '', 'SERVER_ERROR'],
  ])('%i %j → %s', (status, body, code) => {
    const error = fromResponse(status, body);
    expect(error.code).toBe(code);
    expect(error.status).toBe(status);
  });

  it('410 with the compacted body is a CompactedError carrying the oldest index', () => {
    const error = fromResponse(410, '{"Error":"compacted","OldestIndex":42}');
    expect(error).toBeInstanceOf(CompactedError);
    expect(error).toMatchObject({ code: 'COMPACTED', oldestIndex: 42, name: 'CompactedError' });
  });

  it('409 with a txn body is a TxnFailedError listing the failing operations', () => {
    const error = fromResponse(409, '{"Results":null,"Errors":[{"OpIndex":1,"What":"failed index check"}]}');
    expect(error).toBeInstanceOf(TxnFailedError);
    expect(error).toMatchObject({ code: 'TXN_FAILED', errors: [{ opIndex: 1, what: 'failed index check' }] });
  });
});

describe('error codes', () => {
  it('are exactly the ones README.md documents', () => {
    const readme = readFileSync(new URL('./README.md', import.meta.url), 'utf8');
    const documented = [...readme.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((match) => match[1]);
    expect(documented.sort()).toEqual(Object.keys(ERROR_CODES).sort());
  });
});
