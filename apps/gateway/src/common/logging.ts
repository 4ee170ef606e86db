import { RequestMethod } from '@nestjs/common';
import type { Params } from 'nestjs-pino';
import pino from 'pino';
import type { Options } from 'pino-http';
import { maskIdentityNumbers } from '@svu/identity';

/**
 * Structured pino logs. Code logs ids and codes only; the redact list is a backstop for personal
 * data that should never reach a log line (names, identity numbers, payloads, credentials).
 * A second backstop masks anything shaped like an identity number in every string logged, message
 * ids included: an id is the sender's choice, and a sender may build one from a patient's number.
 */
export function loggerParams(level: string, file?: string): Params {
  const options: Options = {
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        '*.patient',
        '*.givenName',
        '*.familyName',
        '*.payload',
        '*.body',
        'patient',
        'payload',
      ],
      censor: '[redacted]',
    },
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map((arg) => masked(arg, 3)) as Parameters<typeof method>);
      },
    },
    autoLogging: { ignore: (req) => (req.url ?? '').startsWith('/health') },
    serializers: {
      req: (req: { method?: string; url?: string }) => ({ method: req.method, url: req.url === undefined ? undefined : maskIdentityNumbers(req.url) }),
      res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
    },
  };
  // SVU_LOG_FILE sends the log to a file (appended) instead of standard output. Written synchronously,
  // as pino writes standard output: the file is open from the start, so that a process that exits
  // early (a start that failed) neither crashes flushing it nor loses its last lines.
  return {
    pinoHttp: file === undefined ? options : [options, pino.destination({ dest: file, append: true, mkdir: true, sync: true })],
    // No request logging on the hot paths: ingress logs each message with its id itself, and health
    // checks are not worth a line. Per request it costs more than storing the message does.
    exclude: [
      { method: RequestMethod.POST, path: 'ingress/:dialect' },
      { method: RequestMethod.GET, path: 'health/live' },
      { method: RequestMethod.GET, path: 'health/ready' },
    ],
  };
}

/** `value` with identity-number-shaped runs masked in its strings, errors, arrays and plain objects. */
function masked(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return maskIdentityNumbers(value);
  if (depth === 0 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) {
    return { type: value.name, message: maskIdentityNumbers(value.message), ...(value.stack === undefined ? {} : { stack: maskIdentityNumbers(value.stack) }) };
  }
  if (Array.isArray(value)) return value.map((item) => masked(item, depth - 1));
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return value; // requests, responses: serialised above
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, masked(item, depth - 1)]));
}
