import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuditService } from './audit.service';
import { AuthGuard } from './auth/auth.guard';
import { SessionSecret, SessionStore } from './auth/session-store';
import { UsersService } from './auth/users.service';
import { MetricsService } from './metrics.service';

/**
 * The concerns every service shares: metrics, the audit log, console users and their sessions, and
 * the guard that checks them on every HTTP route (routes marked `@Public()` excepted). Imports no
 * service module.
 */
@Module({
  providers: [MetricsService, AuditService, SessionSecret, UsersService, SessionStore, { provide: APP_GUARD, useClass: AuthGuard }],
  exports: [MetricsService, AuditService, UsersService, SessionStore],
})
export class CommonModule {}
