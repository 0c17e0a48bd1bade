import { Logger } from '@nestjs/common';
import { ConfigError, loadConfig } from './config/app-config.js';
import { createServer } from './server.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const app = await createServer(config);
  await app.listen(config.port, config.host);
  // Tests and scripts wait for this line; it names the real port when PORT=0.
  new Logger('Switchboard').log(`serving on ${await app.getUrl()} (data in ${config.dataDir})`);
}

main().catch((error: unknown) => {
  // Boot failures (bad config, locked or corrupt data dir) are the operator's to fix: say it in one message.
  console.error(error instanceof ConfigError ? error.message : `switchboard: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
