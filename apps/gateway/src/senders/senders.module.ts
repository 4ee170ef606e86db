import { Module } from '@nestjs/common';
import { SendersService } from './senders.service';

/** The sending systems (SVU_SENDERS_FILE) and their limits: used by ingress and by the console's resubmission. */
@Module({ providers: [SendersService], exports: [SendersService] })
export class SendersModule {}
