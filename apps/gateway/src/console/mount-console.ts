import type { INestApplication } from '@nestjs/common';
import { SwaggerModule } from '@nestjs/swagger';
import { static as serveStatic } from 'express';
import { join } from 'node:path';
import { OPENAPI } from './openapi';

/** The console's web pages (plain HTML and JavaScript, no build step) live beside the sources. */
export const UI_DIR = join(__dirname.replace(/[\\/]dist(?=[\\/])/, ''), '..', '..', 'ui');

/** Serves the web console at / and the API documentation at /api/docs. */
export function mountConsole(app: INestApplication): void {
  app.use('/', serveStatic(UI_DIR, { index: 'index.html', maxAge: 0 }));
  SwaggerModule.setup('api/docs', app, OPENAPI as never, { jsonDocumentUrl: 'api/docs/openapi.json' });
}
