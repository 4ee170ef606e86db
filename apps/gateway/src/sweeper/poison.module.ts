import { Module } from '@nestjs/common';
import { PoisonService } from './poison.service';

/** Every process keeps messages from the poison queue as dead letters. */
@Module({ providers: [PoisonService] })
export class PoisonModule {}
