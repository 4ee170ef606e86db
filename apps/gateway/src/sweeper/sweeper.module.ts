import { Module } from '@nestjs/common';
import { RecipientHealthModule } from '../egress';
import { SweeperService } from './sweeper.service';

/** Run beside router, egress and deadlines: copies stuck in flight are handed on again. */
@Module({ imports: [RecipientHealthModule], providers: [SweeperService] })
export class SweeperModule {}
