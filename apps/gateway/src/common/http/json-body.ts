import { json, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { jsonSyntaxError } from '@svu/canonical';
import { BODY_NOT_AN_OBJECT } from './api-schemas';
import { refusalBody } from './edge-exception.filter';

/** The largest JSON body the console API takes. */
export const JSON_BODY_LIMIT = { bytes: 1_048_576, text: '1 MiB' } as const;

/** What body-parser (http-errors) attaches to the errors it passes on. */
interface BodyParserError {
  readonly type?: string;
  readonly status?: number;
  readonly body?: unknown;
}

/** Whether a request carries a body at all (a declared length above zero, or chunks). */
function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** Answers a body the API cannot take as it answers a bad field: the status, `field: "body"` and what is wrong. */
function refuseBody(res: Response, status: number, message: string): void {
  res.status(status).json({ ...refusalBody(status, message), field: 'body' });
}

/** What is wrong with a body body-parser refused, by its error's type, in the API's words. */
const BODY_PROBLEMS: Readonly<Record<string, string>> = {
  'entity.too.large': `the request body is larger than ${JSON_BODY_LIMIT.text}`,
  'encoding.unsupported': 'the request body must not be compressed (no Content-Encoding)',
  'charset.unsupported': 'the request body must be UTF-8',
  'request.aborted': 'the request body ended before its declared length',
  'request.size.invalid': 'the request body ended before its declared length',
};

/** What is wrong with a body body-parser refused, without repeating the body. */
function bodyProblem(error: BodyParserError): string {
  if (error.type === 'entity.parse.failed') {
    const text = typeof error.body === 'string' ? error.body : '';
    return /^\s*[^\s{[]/.test(text) ? BODY_NOT_AN_OBJECT : `the request body is ${jsonSyntaxError(text, error)}`;
  }
  return BODY_PROBLEMS[error.type ?? ''] ?? 'the request body cannot be read';
}

/**
 * The console API's JSON bodies: parsed by Express's `json` (objects and arrays only, UTF-8, not
 * compressed, at most JSON_BODY_LIMIT), and a body it cannot take refused as the API refuses a bad
 * field: 400 (413 too large, 415 not JSON, compressed or not UTF-8) with `field: "body"` and a message
 * that says what is wrong, and where, without repeating the body (body-parser's own text quotes it,
 * and its errors are not the API's shape). A body sent as another content type is refused rather than
 * read as no body at all.
 */
export function jsonBody(): [RequestHandler, RequestHandler, (error: unknown, req: Request, res: Response, next: NextFunction) => void] {
  return [
    json({ limit: JSON_BODY_LIMIT.bytes, inflate: false }),
    (req: Request, res: Response, next: NextFunction) => {
      if (hasBody(req) && req.is('application/json') === false) refuseBody(res, 415, 'the request body must be JSON, sent as Content-Type: application/json');
      else next();
    },
    (error: unknown, _req: Request, res: Response, next: NextFunction) => {
      const problem = (error ?? {}) as BodyParserError;
      if (problem.type === undefined || typeof problem.status !== 'number' || problem.status < 400 || problem.status >= 500) {
        next(error);
        return;
      }
      refuseBody(res, problem.status, bodyProblem(problem));
    },
  ];
}
