import { Controller, HttpCode, Logger, Param, Post, Req } from '@nestjs/common';
import type { Request } from 'express';
import type { TLSSocket } from 'node:tls';
import { performance } from 'node:perf_hooks';
import { formatPath } from '@svu/canonical';
import { isFormat, MAX_MESSAGE_BYTES } from '@svu/dialects';
import type { SenderSystem } from '@svu/directory';
import { problemsJson } from '../store/records';
import { IngressService, type AcceptResult } from './ingress.service';
import type { IngressAccepted } from '../common/http/generated/api';
import { refusal, unreadRefusal } from '../common/http/outcome';
import { Endpoint, retryAfter } from '../common/http/endpoint';
import { SendersService } from '../senders/senders.service';
import { SenderLimiter } from '../senders/token-bucket';

/**
 * Reads a request body, stopping (and pausing the request) one byte past the limit; `aborted` when the
 * sender closed the connection before the body was whole (nothing to answer or keep, and no error:
 * anyone can hang up).
 */
function readBody(req: Request, limit: number): Promise<Buffer | 'too-large' | 'aborted'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      if (total > limit) {
        req.off('data', onData).off('end', onEnd).off('error', onError);
        req.pause();
        resolve('too-large');
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => resolve(Buffer.concat(chunks));
    const onError = () => resolve('aborted');
    req.on('data', onData).on('end', onEnd).on('error', onError);
  });
}

/** Who sent a request, or why that is not known (docs/senders.md). */
type Caller = { readonly ok: true; readonly sender: SenderSystem } | { readonly ok: false; readonly status: 401 | 429; readonly reason: string };

/** The kind (and so the HTTP status) of each refusal of a message from a known sender system. */
const REFUSAL_KIND = {
  'sender-not-allowed': 'forbidden',
  'cancellation-not-owner': 'forbidden',
  'acknowledgement-not-addressed': 'forbidden',
  'message-id-conflict': 'conflict',
} as const;

/** The answer to a body over the limit, whether its length was declared or counted. */
const TOO_LARGE = { problems: [{ path: formatPath([]), message: `is larger than ${MAX_MESSAGE_BYTES} bytes` }] };

/** The answer while the broker or the store cannot take a message. */
const UNAVAILABLE = { error: 'the gateway cannot store messages right now; try again later' };

/**
 * HTTP ingress: `POST /ingress/<dialect>` with the message as the dialect writes it, from a sender
 * system with its bearer key or client certificate. 202 with the message id once stored (also for a
 * message id the system sent before, with the same content), 400 with the problems (the message is
 * kept in the dead-letter queue), 401 without a valid credential, 403 for a message the system may not
 * send or that may not act on what it names, 409 for another message under an id the system used
 * before, 413 over 256 KiB, 429 over the system's limits, 503 when the broker or the store cannot take it.
 */
const REFUSAL = (description: string) => ({ description, body: 'IngressRefusal' as const });

@Controller('ingress')
export class IngressController {
  private readonly logger = new Logger(IngressController.name);
  private readonly limiter = new SenderLimiter();

  constructor(
    private readonly ingress: IngressService,
    private readonly senders: SendersService,
  ) {}

  @Post(':dialect')
  @HttpCode(202)
  @Endpoint({
    operationId: 'ingestMessage',
    tag: 'ingress',
    access: 'sender',
    summary: 'Send a message, as the dialect writes it',
    description:
      'The body is the message as its dialect writes it (docs/contract.md), at most 256 KiB: canonical and samsa are JSON in UTF-8, lifecare is XML in UTF-8, webcare is XML in ISO-8859-1. ' +
      'The sender system is named by its bearer key and/or client certificate (docs/senders.md). Requests that a browser made (Origin or Sec-Fetch-Site) are refused. ' +
      'A request refused before its body is read is answered with Connection: close.',
    params: { dialect: { description: 'The dialect the body is written in', schema: { type: 'string', enum: ['canonical', 'lifecare', 'samsa', 'webcare'] } } },
    rawBody: {
      description: 'The message as its dialect writes it',
      content: {
        'application/json': { type: 'object', description: 'canonical (schemas/message.schema.json) or samsa (docs/contract.md)', additionalProperties: true },
        'application/xml': { type: 'string', description: 'lifecare (UTF-8) or webcare (ISO-8859-1) (docs/contract.md)' },
      },
    },
    answers: {
      202: { description: 'Stored (also for a message id the system sent before, with the same content: duplicate)', body: 'IngressAccepted' },
      400: { description: 'Not valid: the problems at their field paths; the message is kept in the dead-letter queue', body: 'IngressInvalid' },
      401: {
        ...REFUSAL('No valid credential (reason unauthenticated)'),
        headers: { 'www-authenticate': { description: 'Bearer realm="svu-ingress"', schema: { type: 'string' } } },
      },
      403: REFUSAL('A browser request (browser-request), or a message the system may not send or that may not act on what it names (sender-not-allowed, cancellation-not-owner, acknowledgement-not-addressed)'),
      404: REFUSAL('No such dialect'),
      409: REFUSAL('Another message under a message id the system used before (message-id-conflict)'),
      413: { description: 'Larger than 256 KiB', body: 'IngressInvalid' },
      429: retryAfter('Over the sender system\'s limits (rate-limited), or too many new keys being checked (busy)', 'IngressRefusal'),
      503: retryAfter('The broker or the store cannot take it now', 'IngressRefusal'),
    },
  })
  async post(@Param('dialect') dialect: string, @Req() req: Request): Promise<IngressAccepted> {
    // Every answer but 202 is a refusal, mapped to HTTP by the edge's exception filter; one given
    // before the body is read closes the connection (unreadRefusal).
    if (!isFormat(dialect)) throw unreadRefusal('not-found', { error: `unknown dialect ${JSON.stringify(dialect)}; use lifecare, webcare, samsa or canonical` });
    // Sender systems are programs, not browsers: a request a browser made (it names its origin) is
    // refused, so that no web page can post here with credentials the browser holds (a client certificate).
    if (req.headers.origin !== undefined || req.headers['sec-fetch-site'] !== undefined) {
      throw unreadRefusal('forbidden', { error: 'ingress does not take requests from browsers', reason: 'browser-request' });
    }
    const caller = await this.identify(req);
    if (!caller.ok) {
      this.logger.warn({ dialect, reason: caller.reason, status: caller.status }, 'ingress request refused');
      if (caller.status === 429) throw unreadRefusal('too-many', { error: caller.reason, reason: 'busy' }, { 'retry-after': '1' });
      throw unreadRefusal('unauthenticated', { error: caller.reason, reason: 'unauthenticated' }, { 'www-authenticate': 'Bearer realm="svu-ingress"' });
    }
    const { sender } = caller;
    // A body declared larger than the limit is refused before any of it is read, rather than after
    // waiting for bytes that may never come.
    if (Number(req.headers['content-length']) > MAX_MESSAGE_BYTES) throw unreadRefusal('too-large', TOO_LARGE);
    const body = await readBody(req, MAX_MESSAGE_BYTES);
    if (body === 'too-large') throw unreadRefusal('too-large', TOO_LARGE);
    if (body === 'aborted') {
      this.logger.log({ dialect, senderSystem: sender.id }, 'ingress request ended before it was whole; nothing stored');
      throw unreadRefusal('invalid', { problems: [{ path: formatPath([]), message: 'ended before its declared length' }] });
    }
    // A sender's rate is measured in elapsed time on the monotonic clock, not on the gateway's clock
    // (which dates records and deadlines, may be set in tests and may be stepped by NTP).
    const limit = this.limiter.take(sender.id, this.senders.limitsOf(sender), body.length, performance.now());
    if (!limit.ok) {
      throw refusal(
        'too-many',
        { error: `sender system ${sender.id} is over its limit of ${limit.limit} a second; try again later`, reason: 'rate-limited' },
        { 'retry-after': String(Math.max(1, Math.ceil(limit.retryAfterMs / 1_000))) },
      );
    }
    if (!this.ingress.canAccept()) throw refusal('unavailable', UNAVAILABLE, { 'retry-after': '5' });
    let result: AcceptResult;
    try {
      result = await this.ingress.accept({ format: dialect, bytes: body, via: 'http', sender });
    } catch (error) {
      this.logger.error({ dialect, err: (error as Error).message }, 'message not stored; answered 503');
      throw refusal('unavailable', UNAVAILABLE, { 'retry-after': '5' });
    }
    switch (result.status) {
      case 'invalid':
        throw refusal('invalid', { problems: problemsJson(result.problems), deadLetterId: result.deadLetterId });
      case 'refused':
        throw refusal(REFUSAL_KIND[result.reason], { error: result.detail, reason: result.reason, messageId: result.messageId, deadLetterId: result.deadLetterId });
      case 'accepted':
      case 'duplicate':
        return { messageId: result.messageId, ...(result.status === 'duplicate' ? { duplicate: true } : {}) };
    }
  }

  /**
   * The sender system of a request: named by its client certificate (verified against SVU_TLS_CA)
   * and/or its bearer key; when both come, they must name the same system.
   */
  private async identify(req: Request): Promise<Caller> {
    let byCertificate: SenderSystem | undefined;
    const socket = req.socket as Partial<TLSSocket>;
    const certificate = socket.getPeerX509Certificate?.();
    if (certificate !== undefined) {
      if (socket.authorized !== true) return { ok: false, status: 401, reason: `the client certificate is not trusted (${String(socket.authorizationError)})` };
      byCertificate = this.senders.byCertificate(certificate);
      if (byCertificate === undefined) return { ok: false, status: 401, reason: 'the client certificate names no sender system' };
    }
    const header = req.headers.authorization;
    if (header === undefined) {
      return byCertificate === undefined ? { ok: false, status: 401, reason: 'a credential is required: Authorization: Bearer <key>, or a client certificate' } : { ok: true, sender: byCertificate };
    }
    const match = /^Bearer ([\x21-\x7e]{1,512})$/i.exec(header);
    if (match === null) return { ok: false, status: 401, reason: 'the Authorization header must be Bearer <key>' };
    const byKey = await this.senders.byKey(match[1]!);
    if (byKey === 'busy') return { ok: false, status: 429, reason: 'too many new keys being checked; try again in a second' };
    if (byKey === undefined) return { ok: false, status: 401, reason: 'the bearer key is not valid' };
    if (byCertificate !== undefined && byCertificate.id !== byKey.id) return { ok: false, status: 401, reason: 'the client certificate and the bearer key name different sender systems' };
    return { ok: true, sender: byKey };
  }
}
