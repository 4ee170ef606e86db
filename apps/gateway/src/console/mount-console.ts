import { Logger, type INestApplication } from '@nestjs/common';
import { SwaggerModule } from '@nestjs/swagger';
import { static as serveStatic } from 'express';
import { join } from 'node:path';
import type { GatewayConfig } from '../config/gateway-config';
import { refuseCrossOrigin, securityHeaders } from '../common/http-security';
import { OPENAPI } from './openapi';

/** The console's web pages (plain HTML and JavaScript, no build step) live beside the sources. */
export const UI_DIR = join(__dirname.replace(/[\\/]dist(?=[\\/])/, ''), '..', '..', 'ui');

/**
 * Serves the web console at / and the API documentation at /api/docs, behind the console's HTTP
 * defences: security headers on every answer, and no cross-origin state-changing request.
 */
export function mountConsole(app: INestApplication, config: Pick<GatewayConfig, 'trustProxy' | 'consoleOrigins'>): void {
  const express = app.getHttpAdapter().getInstance() as { set(setting: string, value: unknown): void };
  // Whom to believe about the client's address and protocol (X-Forwarded-For/-Proto/-Host): sign-in
  // back-off counts per address, and cookies are Secure when the request came over TLS.
  express.set('trust proxy', config.trustProxy === false ? false : typeof config.trustProxy === 'number' ? config.trustProxy : [...config.trustProxy]);
  app.use(securityHeaders());
  app.use(refuseCrossOrigin(config.consoleOrigins, new Logger('ConsoleSecurity')));
  app.use('/', serveStatic(UI_DIR, { index: 'index.html', maxAge: 0 }));
  SwaggerModule.setup('api/docs', app, OPENAPI as never, { jsonDocumentUrl: 'api/docs/openapi.json' });
}
