import { Controller, Get, Res } from '@nestjs/common';
import type { Response } from 'express';
import { Broker } from '../broker/broker';
import { Database } from '../store/database';
import { Public } from '../common/auth/auth.guard';

/** Liveness (the process answers) and readiness (broker and database reachable). */
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly broker: Broker,
    private readonly db: Database,
  ) {}

  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready(@Res() res: Response): Promise<void> {
    const broker = this.broker.isConnected();
    const database = await this.db.isReachable();
    res.status(broker && database ? 200 : 503).json({ status: broker && database ? 'ready' : 'not ready', broker, database });
  }
}
