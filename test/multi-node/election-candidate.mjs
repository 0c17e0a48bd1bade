// A primary/standby candidate as a real service would write it with the `consul` npm client:
// create a session, try to acquire the leader key, renew at TTL/2, start over when the session
// is gone. Prints one JSON line per event so the test can follow it.
//
// Usage: node election-candidate.mjs <switchboard url> <candidate name> <key>
import Consul from 'consul';

const [url, name, key] = process.argv.slice(2);
const { hostname, port } = new URL(url);
const consul = new Consul({ host: hostname, port: Number(port) });
const TTL_SECONDS = 10;
/** Between two acquire attempts while another candidate leads (Go's api.Lock waits on the key instead). */
const RETRY_MS = 200;

const report = (event, fields = {}) => process.stdout.write(`${JSON.stringify({ event, name, ...fields })}\n`);
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

let session;
let renewedAt = 0;
let leading = false;

for (;;) {
  try {
    if (session === undefined) {
      session = (await consul.session.create({ name, ttl: `${TTL_SECONDS}s`, lockdelay: '1s' })).ID;
      renewedAt = Date.now();
      report('session', { session });
    }
    if (Date.now() - renewedAt >= (TTL_SECONDS * 1000) / 2) {
      await consul.session.renew(session);
      renewedAt = Date.now();
    }
    const acquired = await consul.kv.set({ key, value: name, acquire: session });
    if (acquired && !leading) {
      const held = await consul.kv.get(key);
      report('elected', { session, lockIndex: held.LockIndex });
    }
    leading = Boolean(acquired);
  } catch (error) {
    // Session expired or destroyed (404 on renew, invalid session on acquire): start over.
    report('error', { message: String(error.message ?? error) });
    session = undefined;
    leading = false;
  }
  await pause(RETRY_MS);
}
