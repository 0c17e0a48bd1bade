/**
 * The ceiling for a Nest route on this machine: NestJS on Fastify, no store, no per-request work
 * beyond Nest's routing. It answers every `/v1/kv/*` GET with the body and read headers
 * Switchboard sends for the seeded single key (API.md §1.5, §5.2.1), and every PUT by copying
 * the raw body (as Switchboard's KV controller does) and answering `true`, both written straight
 * to the Fastify reply (`@Res()`), so the bench's single-key GET and PUT figures read as "% of the
 * fastest Nest route".
 *
 * Run by the bench as `node bench/dist/apps/bare-nest.js` with PORT and HOST.
 */
import 'reflect-metadata';
import { Controller, Get, Module, Put, Req, Res } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ONE_KEY, ONE_VALUE } from '../workloads/fixtures.js';

const INDEX = 5;
const BODY = JSON.stringify([
  { LockIndex: 0, Key: ONE_KEY, Flags: 0, Value: ONE_VALUE.toString('base64'), CreateIndex: INDEX, ModifyIndex: INDEX },
]);
const HEADERS = {
  'x-consul-index': String(INDEX),
  'x-consul-knownleader': 'true',
  'x-consul-lastcontact': '0',
  'content-type': 'application/json',
};

@Controller('v1/kv')
class BareKvController {
  @Get('*')
  read(@Res() reply: FastifyReply): void {
    void reply.code(200).headers(HEADERS).send(BODY);
  }

  @Put('*')
  write(@Req() request: FastifyRequest, @Res() reply: FastifyReply): void {
    const value = Buffer.from(request.body as Buffer);
    void reply.code(200).header('content-type', 'application/json').send(value.length > 0 ? 'true' : 'false');
  }
}

@Module({ controllers: [BareKvController] })
class BareModule {}

async function main(): Promise<void> {
  const adapter = new FastifyAdapter({ keepAliveTimeout: 65_000 });
  // Raw bytes whatever the Content-Type, as Switchboard parses KV bodies.
  adapter.getInstance().removeAllContentTypeParsers();
  adapter.getInstance().addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  const app = await NestFactory.create<NestFastifyApplication>(BareModule, adapter, { logger: ['error', 'warn'], bodyParser: false });
  app.enableShutdownHooks();
  await app.listen(Number(process.env.PORT ?? 8500), process.env.HOST ?? '127.0.0.1');
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
