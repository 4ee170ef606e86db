import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import type { Server } from 'node:http';
import { Logger } from 'nestjs-pino';
import { loadConfig, type GatewayConfig } from './config/gateway-config';
import { json } from 'express';
import { GatewayModule } from './gateway.module';
import { mountConsole } from './console/mount-console';
import { systemClock, type Clock } from './clock/clock';

/** Starts a gateway process with the services its configuration names. */
export async function startGateway(config: GatewayConfig = loadConfig(), clock: Clock = systemClock, sessionClock: Clock = systemClock): Promise<INestApplication> {
  const app = await NestFactory.create(GatewayModule.forConfig(config, clock, sessionClock), { bodyParser: false, bufferLogs: true });
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks();
  // No ETag over API answers (they are not cached, and hashing every answer costs on the ingress hot
  // path), no X-Powered-By. Static files of the console keep their own ETags.
  const express = app.getHttpAdapter().getInstance() as { set(setting: string, value: unknown): void };
  express.set('etag', false);
  express.set('x-powered-by', false);
  // The console's defences (security headers, cross-origin refusal) come first, so that they cover
  // every answer, a refused JSON body's too.
  if (config.services.has('console')) mountConsole(app, config);
  // Ingress reads message bodies as raw bytes itself; only the console API takes JSON.
  app.use('/api', json({ limit: '1mb' }));
  await app.listen(config.port, '0.0.0.0');
  // Idle keep-alive connections stay open longer than a load balancer's or client's own idle timeout
  // (commonly 60 s): Node's default of 5 s closes them first, and a request sent on a connection at
  // the moment the server closes it fails with a reset.
  const server = app.getHttpServer() as Server;
  server.keepAliveTimeout = config.httpKeepAliveMs;
  server.headersTimeout = config.httpKeepAliveMs + 1_000;
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
