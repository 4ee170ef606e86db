import { Module } from '@nestjs/common';
import { CommonModule } from '../common/common.module';
import { AmqpIngressController } from './amqp-ingress.controller';
import { IngressController } from './ingress.controller';
import { IngressCoreModule } from './ingress-core.module';

/** SVU_SERVICES=ingress: messages in over HTTP (POST /ingress/{dialect}) and AMQP. */
@Module({ imports: [CommonModule, IngressCoreModule], controllers: [IngressController, AmqpIngressController] })
export class IngressModule {}
