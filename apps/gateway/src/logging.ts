import { RequestMethod } from '@nestjs/common';
import type { Params } from 'nestjs-pino';
import pino from 'pino';
import type { Options } from 'pino-http';

/**
 * Structured pino logs. Code logs ids and codes only; the redact list is a backstop for personal
 * data that should never reach a log line (names, identity numbers, payloads, credentials).
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
    autoLogging: { ignore: (req) => (req.url ?? '').startsWith('/health') },
    serializers: {
      req: (req: { method?: string; url?: string }) => ({ method: req.method, url: req.url }),
      res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
    },
  };
  // SVU_LOG_FILE sends the log to a file (appended) instead of standard output.
  return {
    pinoHttp: file === undefined ? options : [options, pino.destination({ dest: file, append: true, mkdir: true, sync: false })],
    // No request logging on the hot paths: ingress logs each message with its id itself, and health
    // checks are not worth a line. Per request it costs more than storing the message does.
    exclude: [
      { method: RequestMethod.POST, path: 'ingress/:dialect' },
      { method: RequestMethod.GET, path: 'health/live' },
      { method: RequestMethod.GET, path: 'health/ready' },
    ],
  };
}
