import { Module } from '@nestjs/common';
import { DispatchService } from './dispatch.service';

/** Fallback documents sent by hand (fax or letter): recorded from the console. */
@Module({ providers: [DispatchService], exports: [DispatchService] })
export class DispatchModule {}
