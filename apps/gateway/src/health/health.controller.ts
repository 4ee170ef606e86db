import { Controller, Get, Res } from '@nestjs/common';
import type { Response } from 'express';
import { Broker } from '../broker/broker';
import { Database } from '../store/database';
import { Endpoint } from '../common/http/endpoint';

/** Liveness (the process answers) and readiness (broker and database reachable). */
@Controller('health')
export class HealthController {
  constructor(
    private readonly broker: Broker,
    private readonly db: Database,
  ) {}

  @Get('live')
  @Endpoint({ operationId: 'live', tag: 'health', access: 'public', summary: 'The process answers', answers: { 200: { description: 'Alive', body: 'Liveness' } } })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @Endpoint({
    operationId: 'ready',
    tag: 'health',
    access: 'public',
    summary: 'Broker and database reachable',
    answers: { 200: { description: 'Ready', body: 'Readiness' }, 503: { description: 'Not ready: which of the two is not reachable', body: 'Readiness' } },
  })
  async ready(@Res() res: Response): Promise<void> {
    const broker = this.broker.isConnected();
    const database = await this.db.isReachable();
    res.status(broker && database ? 200 : 503).json({ status: broker && database ? 'ready' : 'not ready', broker, database });
  }
}
