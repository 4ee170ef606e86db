import { Module } from '@nestjs/common';
import { CommonModule } from '../common/common.module';
import { SendersModule } from '../senders/senders.module';
import { IngressService } from './ingress.service';

/**
 * Accepting a message (validate, store, hand to the router) and the senders it is accepted from:
 * what the ingress edges run, and what the console uses to resubmit a corrected dead letter.
 */
@Module({ imports: [CommonModule, SendersModule], providers: [IngressService], exports: [IngressService, SendersModule] })
export class IngressCoreModule {}
