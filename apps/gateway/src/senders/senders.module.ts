import { Module } from '@nestjs/common';
import { SendersService } from './senders.service';

/** The sending systems (SVU_SENDERS) and their limits: used by ingress, which needs them at start, and by the console's resubmission. */
@Module({ providers: [SendersService], exports: [SendersService] })
export class SendersModule {}
