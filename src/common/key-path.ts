import { badRequest } from './consul-error.js';

export const MALFORMED_PATH = 'Invalid URL path: malformed percent-encoding or UTF-8';

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * The key addressed by a request: the raw path after `routePrefix`, percent-decoded exactly once
 * (`%2F` becomes `/`, `+` stays `+`). Keys Consul could never store are refused with 400 rather
 * than stored silently: control characters (Consul rejects them in front of its mux) and empty,
 * `.` or `..` segments (Go's mux would 301 them to a different key). A trailing `/` is a legal
 * "folder" key.
 */
export function keyFromUrl(url: string, routePrefix: string): string {
  const queryStart = url.indexOf('?');
  const encoded = url.slice(routePrefix.length, queryStart === -1 ? url.length : queryStart);
  let key = encoded;
  // Most keys carry no escapes; decodeURIComponent is the costly part of a PUT's path handling.
  if (encoded.includes('%')) {
    try {
      key = decodeURIComponent(encoded);
    } catch {
      throw badRequest(MALFORMED_PATH);
    }
  }
  const problem = invalidKeyReason(key);
  if (problem !== undefined) throw badRequest(problem);
  return key;
}

/**
 * Why Switchboard refuses to store `key`, or undefined when it is storable. Shared by the URL
 * path above and keys that arrive in bodies (txn ops), so no write path can create a key that
 * GET /v1/kv/<key> could never address.
 */
export function invalidKeyReason(key: string): string | undefined {
  if (CONTROL.test(key)) return 'Invalid key: control characters are not allowed';
  const segments = key.split('/');
  const lastIndex = segments.length - 1;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    if (segment === '.' || segment === '..' || (segment === '' && i !== lastIndex && key !== '')) {
      return `Invalid key ${JSON.stringify(key)}: empty, "." and ".." path segments are not allowed`;
    }
  }
  return undefined;
}
