import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { Format } from '@svu/dialects';
import { BrokerContext, MessageController, type MessageBatch } from '../broker/broker.transport';
import { INGRESS_DIALECTS, QUEUE_PATTERNS } from '../broker/topology';
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
@MessageController()
export class AmqpIngressController {
  constructor(
    private readonly ingress: IngressService,
    private readonly senders: SendersService,
  ) {}

  @EventPattern([...QUEUE_PATTERNS.ingress])
  async receive(@Payload() messages: MessageBatch, @Ctx() context: BrokerContext): Promise<void> {
    const dialect = dialectOf(context.getPattern());
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
  }
}

function dialectOf(pattern: string): Format {
  const dialect = INGRESS_DIALECTS.find((d) => pattern === `ingress.${d}`);
  if (dialect === undefined) throw new Error(`no ingress queue for the pattern ${pattern}`);
  return dialect;
}
