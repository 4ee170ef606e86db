import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { Inject } from '@nestjs/common';
import type { ConsumeMessage } from 'amqplib';
import type { Format } from '@svu/dialects';
import { Broker, type Disposition } from '../broker/broker';
import { INGRESS_DIALECTS } from '../broker/topology';
import { consumeOptions, GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { SendersService } from '../senders/senders.service';
import { IngressService, type Incoming } from './ingress.service';

/**
 * AMQP ingress: one queue per dialect (`svu.ingress.<dialect>`). A batch is stored in one transaction
 * and acknowledged after the commit; an invalid message is acknowledged too, as it is kept in the
 * dead-letter queue of the store with its problems.
 *
 * Each message must carry the `user_id` property: RabbitMQ refuses a publish whose user_id is not the
 * connection's user, so it names the sender system (its `amqpUser`, docs/senders.md). A message
 * without one, or with a user no system has, is kept as a dead letter `unauthenticated` without its
 * body. AMQP senders are not rate-limited by the gateway (docs/senders.md).
 */
@Injectable()
export class IngressConsumer implements OnApplicationBootstrap {
  constructor(
    private readonly broker: Broker,
    private readonly ingress: IngressService,
    private readonly senders: SendersService,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    for (const dialect of INGRESS_DIALECTS) {
      await this.broker.consume(
        this.broker.names.ingressQueue(dialect),
        consumeOptions(this.config),
        async (messages: readonly ConsumeMessage[]): Promise<Disposition[]> => {
          const known: Incoming[] = [];
          const unknown: Array<{ format: Format; bytes: Buffer; why: string; routingKey: string }> = [];
          for (const m of messages) {
            const user = m.properties.userId as string | undefined;
            const sender = user === undefined ? undefined : this.senders.byAmqpUser(user);
            if (sender !== undefined) known.push({ format: dialect, bytes: m.content, via: 'amqp', sender });
            else unknown.push({ format: dialect, bytes: m.content, why: user === undefined ? 'no user_id property' : 'user_id names no sender system', routingKey: m.fields.routingKey });
          }
          // Stored first: if keeping the refused ones fails, the batch comes again and these are duplicates.
          if (known.length > 0) await this.ingress.acceptMany(known);
          await this.ingress.keepUnauthenticated(unknown);
          return messages.map(() => 'ack');
        },
      );
    }
  }
}
