import { BadRequestException, Body, Controller, Get, HttpCode, HttpException, HttpStatus, Inject, Logger, Post, Req, Res, UnauthorizedException, UseInterceptors } from '@nestjs/common';
import type { Request, Response } from 'express';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config/gateway-config';
import { AuditService } from '../../common/audit.service';
import { ViewerMaskingInterceptor } from '../../common/viewer-masking.interceptor';
import { Public, SESSION_COOKIE, tokenOf, type AuthedRequest } from '../../common/auth/auth.guard';
import { LoginThrottle } from './login-throttle.service';
import { PasswordChecker, TooManySignIns } from './password-checker';
import { SessionStore } from '../../common/auth/session-store';
import { UsersService } from '../../common/auth/users.service';

const MAX_USERNAME = 200;
/** How the audit log names a failed sign-in with a user name that is no user's. */
export const UNKNOWN_USER = '(unknown user)';
const MAX_PASSWORD = 1_024;

/** The address sign-in failures are counted against (behind a trusted proxy, the client's; SVU_TRUST_PROXY). */
function addressOf(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? 'unknown';
}

/** Sign-in with a user of the users file; the session lives in the store and its token is a cookie and in the answer. */
@Controller('api')
export class AuthController {
  private readonly logger = new Logger(AuthController.name);
  private readonly passwords: PasswordChecker;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly users: UsersService,
    private readonly sessions: SessionStore,
    private readonly throttle: LoginThrottle,
    private readonly audit: AuditService,
  ) {
    this.passwords = new PasswordChecker(config.login.concurrency);
  }

  @Public()
  @Post('login')
  @HttpCode(200)
  async login(@Body() body: { username?: unknown; password?: unknown }, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
    const { username, password } = body ?? {};
    if (typeof username !== 'string' || username === '') throw new BadRequestException('username is required');
    if (typeof password !== 'string' || password === '') throw new BadRequestException('password is required');
    if (username.length > MAX_USERNAME) throw new BadRequestException(`username is longer than ${MAX_USERNAME} characters`);
    if (password.length > MAX_PASSWORD) throw new BadRequestException(`password is longer than ${MAX_PASSWORD} characters`);
    const address = addressOf(req);

    const attempt = await this.throttle.begin(username, address);
    if (!attempt.ok) {
      const seconds = Math.max(1, Math.ceil(attempt.retryAfterMs / 1000));
      res.setHeader('retry-after', String(seconds));
      this.logger.warn({ address, retryAfterSeconds: seconds }, 'sign-in refused: too many failed sign-ins for this user name or address');
      throw new HttpException({ statusCode: 429, message: `too many failed sign-ins; try again in ${seconds} s`, retryAfterSeconds: seconds }, HttpStatus.TOO_MANY_REQUESTS);
    }
    const user = this.users.get(username);
    let ok: boolean;
    try {
      ok = await this.passwords.verify(password, user?.passwordHash);
    } catch (error) {
      if (!(error instanceof TooManySignIns)) throw error;
      res.setHeader('retry-after', '1');
      throw new HttpException({ statusCode: 503, message: 'too many sign-ins at once; try again in a moment' }, HttpStatus.SERVICE_UNAVAILABLE);
    }
    if (!ok || user === undefined) {
      // A name that is no user's is not kept: people type their password into the wrong field.
      await this.audit.record({ username: user?.username ?? UNKNOWN_USER, role: user?.role ?? '-' }, 'login-failed', null, { address });
      throw new UnauthorizedException('wrong user name or password');
    }
    await this.throttle.succeeded(username, address);
    const { token, session, expiresAt } = await this.sessions.create(user);
    res.cookie(SESSION_COOKIE, token, { httpOnly: true, sameSite: 'strict', secure: req.secure, maxAge: this.config.sessionMs, path: '/' });
    await this.audit.record(session, 'login', null, { address });
    return { token, username: user.username, role: user.role, expiresAt: expiresAt.toISOString() };
  }

  /** Ends the session at once (in every console process), and clears the cookie. */
  @Public()
  @Post('logout')
  @HttpCode(200)
  async logout(@Req() req: Request, @Res({ passthrough: true }) res: Response) {
    const token = tokenOf(req);
    const session = token === undefined ? undefined : await this.sessions.check(token);
    if (session !== undefined) {
      await this.sessions.revoke(session, 'signed out');
      await this.audit.record(session, 'logout', null);
    }
    res.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'strict', secure: req.secure, path: '/' });
    return { status: 'signed out' };
  }

  @Get('me')
  @UseInterceptors(ViewerMaskingInterceptor)
  me(@Req() req: AuthedRequest) {
    return { username: req.session!.username, role: req.session!.role };
  }
}
