import { Controller, Get, Res } from '@nestjs/common';
import type { Response } from 'express';
import { Endpoint } from '../common/http/endpoint';
import { MetricsService } from '../common/metrics.service';

/** Prometheus scrape endpoint (counts and codes only, no personal data). */
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @Endpoint({
    operationId: 'metrics',
    tag: 'metrics',
    access: 'public',
    summary: 'Prometheus metrics',
    description: 'Counts and codes only, no personal data (docs/observability.md).',
    answers: { 200: { description: 'The Prometheus text exposition format', content: { 'text/plain': { type: 'string' } } } },
  })
  async scrape(@Res() res: Response): Promise<void> {
    res.setHeader('content-type', this.metrics.registry.contentType);
    res.send(await this.metrics.registry.metrics());
  }
}
