import { Catch, HttpStatus, Logger, type ArgumentsHost, type HttpServer } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import type { Request, Response } from 'express';
import { maskIdentityNumbers } from '@svu/identity';
import type { AuditService } from '../audit.service';
import type { AuthedRequest } from '../auth/auth.guard';
import { Refused, type Refusal, type RefusalKind } from './outcome';

/** HTTP status of each kind of refusal. */
export const REFUSAL_STATUS: Readonly<Record<RefusalKind, number>> = {
  invalid: HttpStatus.BAD_REQUEST,
  unauthenticated: HttpStatus.UNAUTHORIZED,
  forbidden: HttpStatus.FORBIDDEN,
  'not-found': HttpStatus.NOT_FOUND,
  conflict: HttpStatus.CONFLICT,
  gone: HttpStatus.GONE,
  'too-large': HttpStatus.PAYLOAD_TOO_LARGE,
  'too-many': HttpStatus.TOO_MANY_REQUESTS,
  unavailable: HttpStatus.SERVICE_UNAVAILABLE,
};

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  410: 'Gone',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  503: 'Service Unavailable',
};

/** The body of a refusal: `{statusCode, message, error}` for a text (the HttpError shape), else the body it carries. */
export function refusalBody(status: number, detail: string | Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> {
  return typeof detail === 'string' ? { statusCode: status, message: detail, error: STATUS_TEXT[status] ?? 'Error' } : detail;
}

/**
 * The one exception filter of the HTTP edge: a refusal (a service's outcome, a pipe's bad field, a
 * guard's missing session or role) becomes its status, headers and body; anything else is answered as
 * Nest answers it (its own HTTP exceptions, and 500 for an error, which is logged).
 *
 * A signed-in user's refused action is audited before the answer (docs/console-security.md): every
 * refusal of a request that changes something (not GET or HEAD), and every 403 (a role's limit
 * tried); action `refused`, the method and path as target, the status, reason and field as detail,
 * identity-number-shaped runs masked. A refusal its controller audited itself (`audited`) is not
 * written twice; requests without a session (sign-in attempts, ingress) are not audited here.
 */
@Catch()
export class EdgeExceptionFilter extends BaseExceptionFilter {
  private readonly logger = new Logger(EdgeExceptionFilter.name);

  constructor(applicationRef?: HttpServer, private readonly audit?: AuditService) {
    super(applicationRef);
  }

  override catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http' || !(exception instanceof Refused)) {
      super.catch(exception, host);
      return;
    }
    const res = host.switchToHttp().getResponse<Response>();
    const { refused, detail, headers, unreadBody } = exception.refusal;
    const status = REFUSAL_STATUS[refused];
    const answer = () => {
      if (headers !== undefined) for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
      if (unreadBody === true) closeAfter(host.switchToHttp().getRequest<Request>(), res);
      res.status(status).json(refusalBody(status, detail));
    };
    const req = this.audit === undefined ? undefined : host.switchToHttp().getRequest<AuthedRequest>();
    if (this.audit === undefined || req === undefined || !auditable(req, status, exception.refusal)) {
      answer();
      return;
    }
    const body = refusalBody(status, detail);
    const reason = typeof body['message'] === 'string' ? body['message'] : refused;
    const field = typeof body['field'] === 'string' ? { field: body['field'] } : {};
    this.audit
      .record(req.session!, 'refused', `${req.method} ${maskIdentityNumbers(req.path)}`.slice(0, 300), { status, reason: maskIdentityNumbers(reason).slice(0, 500), ...field })
      .catch((error: Error) => this.logger.warn({ err: error.message }, 'a refusal could not be audited'))
      .finally(answer);
  }
}

/** Whether a refusal is one the audit log keeps: a signed-in user's, of a change or of a role's limit, not audited already. */
function auditable(req: AuthedRequest, status: number, refusal: Refusal): boolean {
  if (req.session === undefined || refusal.audited === true) return false;
  return (req.method !== 'GET' && req.method !== 'HEAD') || status === REFUSAL_STATUS.forbidden;
}

/**
 * For an answer to a request whose body is not read (refused before, or too large): the connection
 * closes after it, so that the rest of that body is not taken for the next request and the client is
 * not left waiting on a connection the server no longer reads. The server half-closes after the
 * answer, drops what still arrives, and ends the connection a moment later (closing at once with
 * unread data would reset it, and the client could lose the answer).
 */
function closeAfter(req: Request, res: Response): void {
  res.setHeader('connection', 'close');
  res.on('finish', () => {
    req.socket.end();
    req.resume();
    setTimeout(() => req.socket.destroy(), 2_000).unref();
  });
}
