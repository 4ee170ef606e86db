import { Module } from '@nestjs/common';
import { CommonModule } from '../common/common.module';
import { EgressController } from './egress.controller';
import { EgressService } from './egress.service';
import { RecipientHealthModule } from './recipient-health.module';
import { Transports } from './transports';

/** SVU_SERVICES=egress: delivery of copies to recipients, with retries and recipient health. */
@Module({ imports: [CommonModule, RecipientHealthModule], providers: [EgressService, Transports], controllers: [EgressController] })
export class EgressModule {}
