import { Body, Controller, Get, HttpCode, Inject, Logger, Post, Req, Res, UseInterceptors } from '@nestjs/common';
import type { Request, Response } from 'express';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config/gateway-config';
import { AuditService } from '../../common/audit.service';
import { ViewerMaskingInterceptor } from '../../common/viewer-masking.interceptor';
import { Endpoint, refused, retryAfter } from '../../common/http/endpoint';
import type { LoginRequest, Me, SignedIn, SignedOut } from '../../common/http/generated/api';
import { refusal } from '../../common/http/outcome';
import { bodyOf } from '../../common/http/schema.pipe';
import { SESSION_COOKIE, tokenOf, type AuthedRequest } from '../../common/auth/auth.guard';
import { LoginThrottle } from './login-throttle.service';
import { PasswordChecker, TooManySignIns } from './password-checker';
import { SessionStore } from '../../common/auth/session-store';
import { UsersService } from '../../common/auth/users.service';

/** How the audit log names a failed sign-in with a user name that is no user's. */
export const UNKNOWN_USER = '(unknown user)';

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

  @Post('login')
  @HttpCode(200)
  @Endpoint({
    operationId: 'login',
    tag: 'session',
    access: 'public',
    summary: 'Sign in',
    body: 'LoginRequest',
    answers: {
      200: { description: 'Signed in; the token is also set as the svu_session cookie', body: 'SignedIn' },
      400: refused('The user name or password is missing or too long'),
      401: refused('Wrong user name or password (the same answer, and time, for a user that does not exist)'),
      403: refused('Sent from another origin'),
      429: { ...retryAfter('Too many failed sign-ins for this user name or client address: try again after Retry-After seconds'), body: 'TooManySignIns' },
      503: retryAfter('Too many sign-ins at once: try again after Retry-After seconds'),
    },
  })
  async login(@Body(bodyOf<LoginRequest>('LoginRequest')) body: LoginRequest, @Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<SignedIn> {
    const { username, password } = body;
    const address = addressOf(req);

    const attempt = await this.throttle.begin(username, address);
    if (!attempt.ok) {
      const seconds = Math.max(1, Math.ceil(attempt.retryAfterMs / 1000));
      this.logger.warn({ address, retryAfterSeconds: seconds }, 'sign-in refused: too many failed sign-ins for this user name or address');
      throw refusal('too-many', { statusCode: 429, message: `too many failed sign-ins; try again in ${seconds} s`, retryAfterSeconds: seconds }, { 'retry-after': String(seconds) });
    }
    const user = this.users.get(username);
    let ok: boolean;
    try {
      ok = await this.passwords.verify(password, user?.passwordHash);
    } catch (error) {
      if (!(error instanceof TooManySignIns)) throw error;
      throw refusal('unavailable', { statusCode: 503, message: 'too many sign-ins at once; try again in a moment' }, { 'retry-after': '1' });
    }
    if (!ok || user === undefined) {
      // A name that is no user's is not kept: people type their password into the wrong field.
      await this.audit.record({ username: user?.username ?? UNKNOWN_USER, role: user?.role ?? '-' }, 'login-failed', null, { address });
      throw refusal('unauthenticated', 'wrong user name or password');
    }
    await this.throttle.succeeded(username, address);
    const { token, session, expiresAt } = await this.sessions.create(user);
    res.cookie(SESSION_COOKIE, token, { httpOnly: true, sameSite: 'strict', secure: req.secure, maxAge: this.config.sessionMs, path: '/' });
    await this.audit.record(session, 'login', null, { address });
    return { token, username: user.username, role: user.role, expiresAt: expiresAt.toISOString() };
  }

  /** Ends the session at once (in every console process), and clears the cookie. */
  @Post('logout')
  @HttpCode(200)
  @Endpoint({
    operationId: 'logout',
    tag: 'session',
    access: 'public',
    summary: 'Sign out: ends the session at once (in every console process) and clears the cookie',
    answers: { 200: { description: 'Signed out', body: 'SignedOut' }, 403: refused('Sent from another origin') },
  })
  async logout(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<SignedOut> {
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
  @Endpoint({ operationId: 'me', tag: 'session', access: 'signed-in', summary: 'Who is signed in', answers: { 200: { description: 'The user', body: 'Me' } } })
  me(@Req() req: AuthedRequest): Me {
    return { username: req.session!.username, role: req.session!.role };
  }
}
