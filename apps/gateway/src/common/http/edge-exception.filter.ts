import { Catch, HttpStatus, type ArgumentsHost } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import type { Response } from 'express';
import { Refused, type RefusalKind } from './outcome';

/** HTTP status of each kind of refusal. */
export const REFUSAL_STATUS: Readonly<Record<RefusalKind, number>> = {
  invalid: HttpStatus.BAD_REQUEST,
  unauthenticated: HttpStatus.UNAUTHORIZED,
  forbidden: HttpStatus.FORBIDDEN,
  'not-found': HttpStatus.NOT_FOUND,
  conflict: HttpStatus.CONFLICT,
  gone: HttpStatus.GONE,
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
  429: 'Too Many Requests',
  503: 'Service Unavailable',
};

/** The body of a refusal: `{statusCode, message, error}` for a text (the HttpError shape), else the body it carries. */
export function refusalBody(status: number, detail: string | Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> {
  return typeof detail === 'string' ? { statusCode: status, message: detail, error: STATUS_TEXT[status] ?? 'Error' } : detail;
}

/**
 * The one exception filter of the HTTP edge: a refusal (a service's outcome, a pipe's bad field, a
 * guard's missing session) becomes its status, headers and body; anything else is answered as Nest
 * answers it (its own HTTP exceptions, and 500 for an error, which is logged).
 */
@Catch()
export class EdgeExceptionFilter extends BaseExceptionFilter {
  override catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http' || !(exception instanceof Refused)) {
      super.catch(exception, host);
      return;
    }
    const res = host.switchToHttp().getResponse<Response>();
    const { refused, detail, headers } = exception.refusal;
    const status = REFUSAL_STATUS[refused];
    if (headers !== undefined) for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    res.status(status).json(refusalBody(status, detail));
  }
}
