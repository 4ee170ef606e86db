import { Controller, Get, Inject, Query } from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { Endpoint, refused } from '../common/http/endpoint';
import type { Retention, RetentionQuery } from '../common/http/generated/api';
import { queryOf } from '../common/http/schema.pipe';
import { RetentionRepository } from '../store/retention.repository';
import { RETENTION_KINDS, keptMs, retentionHistory } from './retention.service';

const DAY_MS = 86_400_000;

/** `GET /api/retention`: how long each kind of data is kept, and what the retention job pruned when. */
@Controller('api/retention')
export class RetentionController {
  constructor(
    private readonly store: RetentionRepository,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  @Get()
  @Endpoint({
    operationId: 'getRetention',
    tag: 'retention',
    access: 'signed-in',
    summary: 'How long each kind of data is kept, and what the retention job pruned when (docs/retention.md)',
    query: 'RetentionQuery',
    answers: { 200: { description: 'Retention settings and records', body: 'Retention' }, 400: refused('The limit is not 1-1000') },
  })
  async get(@Query(queryOf<RetentionQuery>('RetentionQuery')) query: RetentionQuery): Promise<Retention> {
    const kept = keptMs(this.config);
    return {
      kept: RETENTION_KINDS.map((kind) => ({ kind, days: kept[kind] / DAY_MS })),
      everySeconds: this.config.retention.everyMs / 1000,
      runs: await retentionHistory(this.store, query.limit ?? 100),
    };
  }
}
