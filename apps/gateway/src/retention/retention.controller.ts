import { Controller, Get, Inject, Query } from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { Database } from '../store/database';
import { RETENTION_KINDS, keptMs, retentionHistory } from './retention.service';

const DAY_MS = 86_400_000;

/** `GET /api/retention`: how long each kind of data is kept, and what the retention job pruned when. */
@Controller('api/retention')
export class RetentionController {
  constructor(
    private readonly db: Database,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  @Get()
  async get(@Query('limit') limitParam?: string) {
    const limit = limitParam === undefined ? 100 : Number(limitParam);
    const kept = keptMs(this.config);
    return {
      kept: RETENTION_KINDS.map((kind) => ({ kind, days: kept[kind] / DAY_MS })),
      everySeconds: this.config.retention.everyMs / 1000,
      runs: await retentionHistory(this.db, Number.isInteger(limit) && limit > 0 && limit <= 1000 ? limit : 100),
    };
  }
}
