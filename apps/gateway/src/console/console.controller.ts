import {
  Controller,
  Get,
  Query,
  UseInterceptors,
} from '@nestjs/common';
import { Endpoint, refused } from '../common/http/endpoint';
import type { AtRiskQuery, AuditQuery, DeviationQuery } from '../common/http/generated/api';
import { queryOf } from '../common/http/schema.pipe';
import { DeviationsRepository } from '../store/deviations.repository';
import { AuditService } from '../common/audit.service';
import { OverviewService } from './overview.service';
import { ViewerMaskingInterceptor } from '../common/viewer-masking.interceptor';

/**
 * The operations console's JSON API (documented at /api/docs): overview, deviations, audit. Actions, fallback documents and
 * unmasked patient data need the operator role; what a viewer gets is masked (ViewerMaskingInterceptor).
 */
@Controller('api')
@UseInterceptors(ViewerMaskingInterceptor)
export class ConsoleController {
  constructor(
    private readonly overviewService: OverviewService,
    private readonly audit: AuditService,
    private readonly deviationsRepository: DeviationsRepository,
  ) {}

  @Get('overview')
  @Endpoint({ operationId: 'overview', tag: 'overview', access: 'signed-in', summary: 'Counts by state, open dead letters, copies at risk (the true total, and the nearest ones), deliveries per minute, last errors', answers: { 200: { description: 'The overview', body: 'Overview' } } })
  overview() {
    return this.overviewService.overview();
  }

  @Get('at-risk')
  @Endpoint({
    operationId: 'listAtRisk',
    tag: 'overview',
    access: 'signed-in',
    summary: 'Admission copies whose deadline is within the fallback margin or past',
    query: 'AtRiskQuery',
    answers: { 200: { description: 'Copies at risk', body: 'AtRiskList' }, 400: refused('A query parameter is not valid (named)') },
  })
  atRisk(@Query(queryOf<AtRiskQuery>('AtRiskQuery')) query: AtRiskQuery) {
    return this.overviewService.atRisk(query.limit);
  }

  @Get('deviations')
  @Endpoint({
    operationId: 'listDeviations',
    tag: 'overview',
    access: 'signed-in',
    summary: 'Deviations by period, unit and kind: one page, newest first, with the total',
    query: 'DeviationQuery',
    answers: { 200: { description: 'One page of deviations and the total', body: 'DeviationPage' }, 400: refused('A query parameter is not valid (named)') },
  })
  deviations(@Query(queryOf<DeviationQuery>('DeviationQuery')) query: DeviationQuery) {
    return this.deviationsRepository.page({
      ...(query.kind === undefined ? {} : { kind: query.kind }),
      ...(query.unit === undefined ? {} : { unitHsa: query.unit }),
      ...(query.from === undefined ? {} : { from: new Date(query.from) }),
      ...(query.to === undefined ? {} : { to: new Date(query.to) }),
      limit: query.limit ?? 200,
      offset: query.offset ?? 0,
    });
  }

  @Get('audit')
  @Endpoint({
    operationId: 'listAudit',
    tag: 'audit',
    access: 'signed-in',
    summary: 'Audit log, newest first, filtered by user, action, target and period, with a total; a bulk job\'s entries grouped under it',
    query: 'AuditQuery',
    answers: { 200: { description: 'Entries', body: 'AuditList' }, 400: refused('A query parameter is not valid (named)') },
  })
  auditLog(@Query(queryOf<AuditQuery>('AuditQuery')) query: AuditQuery) {
    return this.audit.page({
      ...(query.user === undefined ? {} : { user: query.user }),
      ...(query.action === undefined ? {} : { action: query.action }),
      ...(query.target === undefined ? {} : { target: query.target }),
      ...(query.from === undefined ? {} : { from: new Date(query.from) }),
      ...(query.to === undefined ? {} : { to: new Date(query.to) }),
      ...(query.job === undefined ? {} : { job: query.job }),
    }, query.before, query.limit ?? 100);
  }
}
