import { Module } from '@nestjs/common';
import { CommonModule } from '../common/common.module';
import { ReportSummaryService } from './report-summary.service';

/**
 * The background job that keeps the payment-liability summary up to date (docs/payment-liability.md):
 * in processes with the deadlines or the console service, once per process.
 */
@Module({ imports: [CommonModule], providers: [ReportSummaryService] })
export class ReportSummaryModule {}
