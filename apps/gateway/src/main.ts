import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import { Logger } from 'nestjs-pino';
import { loadConfig, type GatewayConfig } from './config/gateway-config';
import { GatewayModule } from './gateway.module';
import { systemClock, type Clock } from './clock/clock';

/** Starts a gateway process with the services its configuration names. */
export async function startGateway(config: GatewayConfig = loadConfig(), clock: Clock = systemClock): Promise<INestApplication> {
  const app = await NestFactory.create(GatewayModule.forConfig(config, clock), { bodyParser: false, bufferLogs: true });
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks();
  await app.listen(config.port, '0.0.0.0');
  return app;
}

if (require.main === module) {
  let config: GatewayConfig;
  try {
    config = loadConfig();
  } catch (error) {
    process.stderr.write(`svu gateway: ${(error as Error).message}\n`);
    process.exit(1);
  }
  startGateway(config).catch((error: Error) => {
    process.stderr.write(`svu gateway could not start: ${error.message}\n`);
    process.exit(1);
  });
}
