import { json, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { jsonSyntaxError } from '@svu/canonical';
import { refusalBody } from './edge-exception.filter';

/** The largest JSON body the console API takes. */
export const JSON_BODY_LIMIT = { bytes: 1_048_576, text: '1 MiB' } as const;

/** What body-parser attaches to the errors it passes on. */
interface BodyParserError {
  readonly type?: string;
  readonly status?: number;
  readonly body?: unknown;
  readonly message?: string;
}

/**
 * The console API's JSON bodies: parsed by Express's `json` (objects and arrays only, at most
 * JSON_BODY_LIMIT), and a body it cannot take refused as the API refuses a bad field: 400 (413 when
 * too large) with `field: "body"` and a message that says what is wrong, where, without repeating the
 * body (body-parser's own text quotes it, and its status page is not the API's shape).
 */
export function jsonBody(): [RequestHandler, (error: unknown, req: Request, res: Response, next: NextFunction) => void] {
  return [
    json({ limit: JSON_BODY_LIMIT.bytes }),
    (error: unknown, _req: Request, res: Response, next: NextFunction) => {
      const { type, status, body } = (error ?? {}) as BodyParserError;
      if (type === undefined || typeof status !== 'number') {
        next(error);
        return;
      }
      const text = typeof body === 'string' ? body : '';
      const message =
        type === 'entity.parse.failed'
          ? /^\s*[^\s{[]/.test(text)
            ? 'the request body must be a JSON object'
            : `the request body is ${jsonSyntaxError(text, error)}`
          : type === 'entity.too.large'
            ? `the request body is larger than ${JSON_BODY_LIMIT.text}`
            : `the request body cannot be read (${type})`;
      res.status(status).json({ ...refusalBody(status, message), field: 'body' });
    },
  ];
}
