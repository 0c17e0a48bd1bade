import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';

// No HTTP: the service's work here is reading config and running its job.
try {
  // abortOnError: false makes a boot failure reject instead of abort() with a core dump.
  const app = await NestFactory.createApplicationContext(AppModule, { abortOnError: false });
  // Ctrl-C / SIGTERM close the app: the primary releases its key and a standby takes over at once.
  app.enableShutdownHooks();
} catch (error) {
  // A boot failure is the operator's to fix: one line saying what. Exit rather than wait for
  // whatever booted before the failure (the config's watch) to wind down.
  console.error(`orders-service: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
