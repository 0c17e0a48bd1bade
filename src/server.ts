import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppModule, openReplica } from './app.module.js';
import { MALFORMED_PATH } from './common/key-path.js';
import { MAX_BODY_BYTES } from './common/consul-exception.filter.js';
import { type AppConfig, advertisedAddress, ConfigError, type LogLevel } from './config/app-config.js';
import { Replica } from './replica/replica.js';

const LOG_LEVELS: readonly LogLevel[] = ['error', 'warn', 'log', 'debug', 'verbose'];

/** Builds the Nest application on Fastify; `listen()` is the caller's. */
export async function createServer(config: AppConfig): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: MAX_BODY_BYTES,
    // Blocking queries hold a request up to 10 min 37.5 s; keep-alive above clients' pool reuse.
    requestTimeout: 0,
    keepAliveTimeout: 65_000,
    // Errors Fastify raises before routing (a path it cannot decode) answer like every other 400.
    frameworkErrors: (error: FastifyError, _request: FastifyRequest, reply: FastifyReply) =>
      void reply
        .code(error.statusCode ?? 400)
        .header('content-type', 'text/plain; charset=utf-8')
        .send(error.code === 'FST_ERR_BAD_URL' ? MALFORMED_PATH : error.message),
  });
  // Set up before Nest registers routes: route contexts inherit the parsers. Errors Fastify raises
  // after routing (a body over the limit) reach ConsulExceptionFilter through Nest.
  const fastify = adapter.getInstance();
  // KV bodies are raw bytes whatever the Content-Type (API.md §1.6); JSON endpoints parse their own.
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  const logLevels = LOG_LEVELS.slice(0, LOG_LEVELS.indexOf(config.logLevel) + 1);
  // The replica logs while it recovers, before Nest applies the levels itself.
  Logger.overrideLogger(logLevels);
  const replica = await openReplica(config);
  let app: NestFastifyApplication;
  try {
    app = await NestFactory.create<NestFastifyApplication>(AppModule.forConfig(config, replica), adapter, { bodyParser: false, logger: logLevels, abortOnError: false });
  } catch (error) {
    await replica.onApplicationShutdown();
    throw error;
  }
  app.enableShutdownHooks();
  // socket.io (the /watch gateway) shares the HTTP server and its port.
  app.useWebSocketAdapter(new IoAdapter(app));
  // Only once listening is the port known (PORT=0), and only then may peers be pointed here.
  const http = app.getHttpServer();
  http.once('listening', () => {
    const address = http.address();
    const port = typeof address === 'object' && address !== null ? address.port : config.port;
    app.get(Replica).advertise(advertisedAddress(config, port));
  });
  return app;
}

/**
 * Builds the server and listens on the configured address: what `npm start` and
 * `switchboard server` both run. Shutdown is Nest's (enableShutdownHooks: SIGTERM, SIGINT).
 */
export async function runServer(config: AppConfig): Promise<NestFastifyApplication> {
  const app = await createServer(config);
  await app.listen(config.port, config.host);
  // Tests and scripts wait for this line; it names the real port when PORT=0.
  new Logger('Switchboard').log(`serving on ${await app.getUrl()} (data in ${config.dataDir})`);
  return app;
}

/**
 * Boot failures (bad config, locked or corrupt data dir) are the operator's to fix: one message,
 * every bad variable at once for a ConfigError.
 */
export function bootFailureMessage(error: unknown): string {
  return error instanceof ConfigError ? error.message : `switchboard: ${error instanceof Error ? error.message : String(error)}`;
}
