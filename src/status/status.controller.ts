import { Controller, Get, Header } from '@nestjs/common';
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

  @Get('agent/self')
  self(): Promise<Record<string, unknown>> {
    return this.status.self();
  }
}
