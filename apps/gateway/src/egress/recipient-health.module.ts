import { Module } from '@nestjs/common';
import { RecipientHealthStore } from './recipient-health.store';

/** Which recipients are failing or paused: written by egress, read by the sweeper and the console. */
@Module({ providers: [RecipientHealthStore], exports: [RecipientHealthStore] })
export class RecipientHealthModule {}
