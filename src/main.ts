import { loadConfig } from './config/app-config.js';
import { bootFailureMessage, runServer } from './server.js';

async function main(): Promise<void> {
  await runServer(loadConfig());
}

main().catch((error: unknown) => {
  console.error(bootFailureMessage(error));
  process.exit(1);
});
