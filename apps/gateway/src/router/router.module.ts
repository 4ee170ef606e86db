import { Module } from '@nestjs/common';
import { CommonModule } from '../common/common.module';
import { RouterController } from './router.controller';
import { RouterService } from './router.service';

/** SVU_SERVICES=router: a copy per recipient unit, translated into its dialect. */
@Module({ imports: [CommonModule], providers: [RouterService], controllers: [RouterController] })
export class RouterModule {}
