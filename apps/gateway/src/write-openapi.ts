import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { writeFileSync } from 'node:fs';
import { loadConfig } from './config/gateway-config';
import { GatewayModule } from './gateway.module';
import { buildApiDocument } from './common/http/openapi';

/**
 * Writes the OpenAPI document of a gateway running every service to the given file, without starting
 * one: Nest's preview mode builds the module graph and reads the controllers, and instantiates no
 * provider (no broker or database connection). `npm run lint:openapi` lints what it writes.
 */
export async function writeApiDocument(file: string): Promise<void> {
  const config = loadConfig({ AMQP_URL: 'amqp://127.0.0.1', DATABASE_URL: 'postgres://127.0.0.1/svu', SVU_DIRECTORY: 'directory.json', LOG_LEVEL: 'error' });
  const app = await NestFactory.create(GatewayModule.forConfig(config), { preview: true, logger: false, abortOnError: false });
  writeFileSync(file, `${JSON.stringify(buildApiDocument(app), null, 2)}\n`);
  await app.close();
}

if (require.main === module) {
  const file = process.argv[2];
  if (file === undefined) {
    process.stderr.write('usage: write-openapi <file>\n');
    process.exit(2);
  }
  writeApiDocument(file).catch((error: Error) => {
    process.stderr.write(`could not write the OpenAPI document: ${error.message}\n`);
    process.exit(1);
  });
}
