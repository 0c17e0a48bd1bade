// One election candidate in its own process (so a test can kill -9 it), on the built SDK.
// argv: <address> <key> <name>; prints "elected <name> <lockIndex>" and "demoted <name>".
import { Switchboard } from '../../dist/client/index.js';

const [address, key, name] = process.argv.slice(2);
const client = new Switchboard({ address, backoff: { initialDelayMs: 20, maxDelayMs: 500 } });
await client.elect(key, {
  ttl: '10s',
  lockDelay: '0s',
  value: name,
  onElected: (lock) => console.log(`elected ${name} ${lock.lockIndex}`),
  onDemoted: () => console.log(`demoted ${name}`),
});
