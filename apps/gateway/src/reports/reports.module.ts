import { Module } from '@nestjs/common';
import { CommonModule } from '../common/common.module';
import { ReportsController } from './reports.controller';

/** Run beside the console: the payment-liability reports (monthly summaries, region-caused days, CSV). */
@Module({ imports: [CommonModule], controllers: [ReportsController] })
export class ReportsModule {}
