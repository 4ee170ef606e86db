import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { request, type Agent } from 'node:https';
import { RecipientCredentials } from './recipient-credentials';
import { Inject } from '@nestjs/common';
import { attemptDetail, CONTENT_TYPES, endpointOf, httpOutcome, RESPONSE_START_BYTES, withAttempt, type AttemptOutcome } from '@svu/delivery';
import type { Format } from '@svu/dialects';
import type { DirectoryUnit } from '@svu/directory';
import { Broker } from '../broker/broker';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';

/** One copy on its way out. */
export interface Outgoing {
  readonly copyId: string;
  readonly messageId: string;
  readonly recipientHsa: string;
  readonly dialect: Format;
  readonly payload: Buffer;
}

/**
 * Delivery over the recipient's transport: HTTP POST (2xx = delivered), or AMQP publish with
 * publisher confirm to the recipient's routing key (confirmed = delivered). Every attempt carries
 * the message id and an idempotency key, so a recipient can recognise a repeat after a crash.
 */
@Injectable()
export class Transports implements OnModuleDestroy {
  private readonly credentials = new RecipientCredentials();

  constructor(
    private readonly broker: Broker,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  onModuleDestroy(): void {
    this.credentials.close();
  }

  async deliver(transport: DirectoryUnit['transport'], out: Outgoing): Promise<AttemptOutcome> {
    // The copy's own id makes the key unique: message ids are unique per sender system only, so two
    // systems' messages under one id must not look like a repeat to a recipient that honours the key.
    const idempotencyKey = `${out.messageId}/${out.recipientHsa}/${out.copyId}`;
    switch (transport.kind) {
      case 'http': {
        // Credentials as the directory names them (docs/recipients.md); a missing one is retried, as
        // an operator can put it in place, and named in the error without its value.
        const presented = this.credentials.for(transport);
        // Where it went, as the console shows it: no credentials, no query (docs/console.md).
        const endpoint = endpointOf(transport.url);
        if (!presented.ok) return { kind: 'retry', error: presented.error, attempt: attemptDetail(endpoint) };
        const headers: Record<string, string> = {
          'content-type': CONTENT_TYPES[out.dialect],
          'x-svu-message-id': out.messageId,
          'idempotency-key': idempotencyKey,
          ...(presented.authorization === undefined ? {} : { authorization: presented.authorization }),
        };
        try {
          if (presented.agent !== undefined) {
            const answered = await postWithAgent(transport.url, out.payload, headers, presented.agent, this.config.deliveryTimeoutMs);
            return withAttempt(httpOutcome(answered.status), attemptDetail(endpoint, answered.status, answered.start));
          }
          const response = await fetch(transport.url, {
            method: 'POST',
            body: out.payload,
            headers,
            signal: AbortSignal.timeout(this.config.deliveryTimeoutMs),
          });
          const body = await response.arrayBuffer().catch(() => undefined);
          const start = body === undefined ? undefined : new Uint8Array(body, 0, Math.min(body.byteLength, RESPONSE_START_BYTES + 4));
          return withAttempt(httpOutcome(response.status), attemptDetail(endpoint, response.status, start));
        } catch (error) {
          return { kind: 'retry', error: describeFetchError(error), attempt: attemptDetail(endpoint) };
        }
      }
      case 'amqp':
        try {
          await this.broker.ensureEgressQueue(transport.routingKey);
          await this.broker.publish(this.broker.names.egressExchange, transport.routingKey, out.payload, {
            messageId: out.messageId,
            contentType: CONTENT_TYPES[out.dialect],
            headers: { 'x-svu-recipient': out.recipientHsa, 'idempotency-key': idempotencyKey },
          });
          return { kind: 'delivered' };
        } catch (error) {
          return { kind: 'retry', error: `AMQP: ${(error as Error).message}`, attempt: attemptDetail(`amqp routing key ${transport.routingKey}`) };
        }
      case 'none':
        return { kind: 'permanent', error: 'the recipient has no electronic route' };
    }
  }
}

/** POSTs over HTTPS through `agent` (which holds the client certificate and the CA); resolves with the status and the answer's first bytes. */
function postWithAgent(url: string, body: Buffer, headers: Record<string, string>, agent: Agent, timeoutMs: number): Promise<{ status: number; start: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': String(body.length) }, signal: AbortSignal.timeout(timeoutMs) }, (res) => {
      const chunks: Buffer[] = [];
      let kept = 0;
      res.on('data', (chunk: Buffer) => {
        if (kept > RESPONSE_START_BYTES) return;
        chunks.push(chunk);
        kept += chunk.length;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, start: Buffer.concat(chunks).subarray(0, RESPONSE_START_BYTES + 4) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

function describeFetchError(error: unknown): string {
  const code = (error as { code?: string }).code;
  if (typeof code === 'string' && code !== 'ABORT_ERR') return code;
  const e = error as { name?: string; message?: string; cause?: { name?: string; code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.cause?.name === 'TimeoutError') return 'timed out';
  return e.cause?.code ?? e.cause?.message ?? e.message ?? 'request failed';
}
