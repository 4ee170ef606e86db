import { Body, Controller, Get, HttpCode, Inject, Logger, Post, Req, Res, UnauthorizedException } from '@nestjs/common';
import type { Response } from 'express';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config/gateway-config';
import { AuditService } from '../audit.service';
import { Public, SESSION_COOKIE, SessionSecret, type AuthedRequest } from './auth.guard';
import { signSession } from './session';
import { loadUsers, verifyPassword, type User } from './users';

/** Sign-in with a user of the users file; the session is a signed token, as a cookie and in the answer. */
@Controller('api')
export class AuthController {
  private readonly logger = new Logger(AuthController.name);
  private users: Map<string, User> = new Map();

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly secret: SessionSecret,
    private readonly audit: AuditService,
  ) {
    try {
      this.users = loadUsers(config.usersPath);
    } catch (error) {
      this.logger.error({ path: config.usersPath, err: (error as Error).message }, 'console users not loaded; nobody can sign in');
    }
  }

  @Public()
  @Post('login')
  @HttpCode(200)
  async login(@Body() body: { username?: unknown; password?: unknown }, @Res({ passthrough: true }) res: Response) {
    const user = typeof body?.username === 'string' ? this.users.get(body.username) : undefined;
    if (user === undefined || typeof body.password !== 'string' || !verifyPassword(body.password, user.passwordHash)) {
      throw new UnauthorizedException('wrong user name or password');
    }
    const session = { username: user.username, role: user.role, exp: Date.now() + this.config.sessionMs };
    const token = signSession(session, this.secret.value);
    res.cookie(SESSION_COOKIE, token, { httpOnly: true, sameSite: 'strict', maxAge: this.config.sessionMs, path: '/' });
    await this.audit.record(session, 'login', null);
    return { token, username: user.username, role: user.role, expiresAt: new Date(session.exp).toISOString() };
  }

  @Public()
  @Post('logout')
  @HttpCode(200)
  logout(@Res({ passthrough: true }) res: Response) {
    res.clearCookie(SESSION_COOKIE, { path: '/' });
    return { status: 'signed out' };
  }

  @Get('me')
  me(@Req() req: AuthedRequest) {
    return { username: req.session!.username, role: req.session!.role };
  }
}
