import type { Params } from 'nestjs-pino';

/**
 * Structured pino logs. Code logs ids and codes only; the redact list is a backstop for personal
 * data that should never reach a log line (names, identity numbers, payloads, credentials).
 */
export function loggerParams(level: string): Params {
  return {
    pinoHttp: {
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
    },
  };
}
