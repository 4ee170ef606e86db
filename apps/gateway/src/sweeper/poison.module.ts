import { Module } from '@nestjs/common';
import { PoisonController } from './poison.controller';

/** Every process keeps messages from the poison queue as dead letters. */
@Module({ controllers: [PoisonController] })
export class PoisonModule {}
