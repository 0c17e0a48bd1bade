import { badRequest } from './consul-error.js';

export const MALFORMED_PATH = 'Invalid URL path: malformed percent-encoding or UTF-8';

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * The key addressed by a request: the raw path after `routePrefix`, percent-decoded exactly once
 * (`%2F` becomes `/`, `+` stays `+`). Keys Consul could never store (see invalidKeyReason) are
 * refused with 400 rather than stored silently.
 */
export function keyFromUrl(url: string, routePrefix: string): string {
  const queryStart = url.indexOf('?');
  const encoded = url.slice(routePrefix.length, queryStart === -1 ? url.length : queryStart);
  let key: string;
  try {
    key = decodeURIComponent(encoded);
  } catch {
    throw badRequest(MALFORMED_PATH);
  }
  const problem = invalidKeyReason(key);
  if (problem !== undefined) throw badRequest(problem);
  return key;
}

/**
 * Why Consul could never store `key`, or undefined when it is fine: control characters (Consul
 * rejects them in front of its mux) and empty, `.` or `..` segments (Go's mux would 301 them to
 * a different key). A trailing `/` is a legal "folder" key; `""` is the root.
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
