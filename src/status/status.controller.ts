import { Controller, Get, Header, Query } from '@nestjs/common';
import { StatusService } from './status.service.js';

/** `/v1/status/*` and `/v1/agent/self`; the answers are StatusService's. */
@Controller('v1')
export class StatusController {
  constructor(private readonly status: StatusService) {}

  @Get('status/leader')
  @Header('content-type', 'application/json')
  leader(): string {
    return this.status.leader();
  }

  @Get('status/peers')
  @Header('content-type', 'application/json')
  peers(): Promise<string> {
    return this.status.peers();
  }

  /** `?digest` (presence flag) adds the state digest, which costs a full encoding of the state. */
  @Get('agent/self')
  self(@Query('digest') digest?: string): Promise<Record<string, unknown>> {
    return this.status.self(digest !== undefined);
  }
}
