import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import type { Server } from 'node:http';
import { Logger } from 'nestjs-pino';
import { consumeOptions, loadConfig, type GatewayConfig } from './config/gateway-config';
import { readTlsFiles } from './config/tls-files';
import { Broker } from './broker/broker';
import { BrokerTransport } from './broker/broker.transport';
import { GatewayModule } from './gateway.module';
import { mountConsole } from './console/mount-console';
import { EdgeExceptionFilter } from './common/http/edge-exception.filter';
import { jsonBody } from './common/http/json-body';
import { AuditService } from './common/audit.service';
import { systemClock, type Clock } from './common/clock/clock';

/** Starts a gateway process with the services its configuration names. */
export async function startGateway(config: GatewayConfig = loadConfig(), clock: Clock = systemClock, sessionClock: Clock = systemClock): Promise<INestApplication> {
  // The HTTPS files first: a wrong one stops the start before anything else is opened (the log file too).
  const https = httpsOptions(config);
  const app = await NestFactory.create(GatewayModule.forConfig(config, clock, sessionClock), { bodyParser: false, bufferLogs: true, ...https });
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks();
  // One exception filter maps refusals (services' outcomes, bad fields) to HTTP status and body, and
  // audits a signed-in user's refused actions.
  app.useGlobalFilters(new EdgeExceptionFilter(app.getHttpAdapter(), app.get(AuditService)));
  // No ETag over API answers (they are not cached, and hashing every answer costs on the ingress hot
  // path), no X-Powered-By. Static files of the console keep their own ETags.
  const express = app.getHttpAdapter().getInstance() as { set(setting: string, value: unknown): void };
  express.set('etag', false);
  express.set('x-powered-by', false);
  // The console's defences (security headers, cross-origin refusal) come first, so that they cover
  // every answer, a refused JSON body's too.
  if (config.services.has('console')) mountConsole(app, config);
  // Ingress reads message bodies as raw bytes itself; only the console API takes JSON.
  app.use('/api', ...jsonBody());
  // Queue messages reach their @EventPattern handlers through Nest's microservices layer over the
  // broker. The store, the broker and the directory come up in init (Lifecycle), the consumers after
  // them, then the HTTP server.
  app.connectMicroservice({ strategy: new BrokerTransport(app.get(Broker), consumeOptions(config)) });
  try {
    await app.init();
    await app.startAllMicroservices();
    await app.listen(config.port, '0.0.0.0');
  } catch (error) {
    // Nest holds log lines back until the server listens (bufferLogs): a start that fails writes
    // them now, so that what led up to it is in the log.
    app.flushLogs();
    throw error;
  }
  // Idle keep-alive connections stay open longer than a load balancer's or client's own idle timeout
  // (commonly 60 s): Node's default of 5 s closes them first, and a request sent on a connection at
  // the moment the server closes it fails with a reset.
  const server = app.getHttpServer() as Server;
  server.keepAliveTimeout = config.httpKeepAliveMs;
  server.headersTimeout = config.httpKeepAliveMs + 1_000;
  return app;
}

/**
 * HTTPS when SVU_TLS_CERT and SVU_TLS_KEY are set; with SVU_TLS_CA the server asks for a client
 * certificate and verifies it against that bundle. A client without one is still served (it may use a
 * bearer key), so the handshake does not refuse it; ingress refuses an untrusted certificate itself.
 */
function httpsOptions(config: GatewayConfig): { httpsOptions?: { cert: Buffer; key: Buffer; ca?: Buffer; requestCert: boolean; rejectUnauthorized: boolean } } {
  if (config.tls === undefined) return {};
  const { cert, key, ca } = readTlsFiles(config.tls);
  return {
    httpsOptions: {
      cert,
      key,
      ...(ca === undefined ? {} : { ca }),
      requestCert: ca !== undefined,
      rejectUnauthorized: false,
    },
  };
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
