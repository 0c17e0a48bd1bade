/**
 * Every endpoint with its allowed methods (API.md §1.1): a known path with another method is a
 * 405 with `Allow`, OPTIONS answers the list, and anything else under /v1/ is Consul's 404.
 */
interface Endpoint {
  readonly path: string;
  /** The path is a prefix (`/v1/kv/<key>`), not an exact match. */
  readonly prefix: boolean;
  readonly methods: readonly string[];
}

const ENDPOINTS: readonly Endpoint[] = [
  { path: '/v1/kv/', prefix: true, methods: ['GET', 'PUT', 'DELETE'] },
  { path: '/v1/history/', prefix: true, methods: ['GET'] },
  { path: '/v1/versions/', prefix: true, methods: ['GET'] },
  { path: '/v1/session/create', prefix: false, methods: ['PUT'] },
  { path: '/v1/session/destroy/', prefix: true, methods: ['PUT'] },
  { path: '/v1/session/renew/', prefix: true, methods: ['PUT'] },
  { path: '/v1/session/info/', prefix: true, methods: ['GET'] },
  { path: '/v1/session/node/', prefix: true, methods: ['GET'] },
  { path: '/v1/session/list', prefix: false, methods: ['GET'] },
  { path: '/v1/txn', prefix: false, methods: ['PUT'] },
  { path: '/v1/status/leader', prefix: false, methods: ['GET'] },
  { path: '/v1/status/peers', prefix: false, methods: ['GET'] },
  { path: '/v1/agent/self', prefix: false, methods: ['GET'] },
];

/** `Allow` header value for a path, or undefined when no endpoint serves it. */
export function allowedMethods(url: string): string | undefined {
  const queryStart = url.indexOf('?');
  const path = queryStart === -1 ? url : url.slice(0, queryStart);
  const endpoint = ENDPOINTS.find((e) => (e.prefix ? path.startsWith(e.path) : path === e.path));
  return endpoint ? ['OPTIONS', ...endpoint.methods].join(',') : undefined;
}
