import { Injectable, SetMetadata, UnauthorizedException, ForbiddenException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { MAX_TOKEN_LENGTH, type Session } from './session';
import { SessionStore } from './session-store';
import type { Role } from '@svu/users';

const PUBLIC = 'svu:public';
const ROLES = 'svu:roles';

/** A route anyone may call (health, ingress from connected systems, login). */
export const Public = () => SetMetadata(PUBLIC, true);
/** A route only these roles may call; without it, any signed-in user may. */
export const Roles = (...roles: Role[]) => SetMetadata(ROLES, roles);

export const SESSION_COOKIE = 'svu_session';

export type AuthedRequest = Request & { session?: Session };

/** The value of the session cookie, undefined when there is none; never throws on a malformed header. */
export function sessionCookie(req: Pick<Request, 'headers'>): string | undefined {
  const cookies = req.headers.cookie;
  if (typeof cookies !== 'string') return undefined;
  for (const part of cookies.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== SESSION_COOKIE) continue;
    const raw = part.slice(eq + 1).trim();
    try {
      return decodeURIComponent(raw);
    } catch {
      return raw;
    }
  }
  return undefined;
}

/** The bearer token of the Authorization header, if any. */
export function bearerToken(req: Pick<Request, 'headers'>): string | undefined {
  const header = req.headers.authorization;
  if (typeof header !== 'string' || !/^Bearer /i.test(header)) return undefined;
  return header.slice(7).trim();
}

/** The token a request carries: the bearer token, else the session cookie. */
export function tokenOf(req: Pick<Request, 'headers'>): string | undefined {
  return bearerToken(req) ?? sessionCookie(req);
}

/** Every route needs a signed-in user unless marked public; actions need the operator role. */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly sessions: SessionStore,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC, targets)) return true;
    const req = context.switchToHttp().getRequest<AuthedRequest>();
    const token = tokenOf(req);
    // Whatever the token holds (malformed, forged, of another secret, too long), the answer is 401.
    const session = token === undefined || token === '' || token.length > MAX_TOKEN_LENGTH ? undefined : await this.sessions.check(token);
    if (session === undefined) throw new UnauthorizedException('sign in first (no session, or it has ended)');
    req.session = session;
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES, targets);
    if (roles !== undefined && !roles.includes(session.role)) throw new ForbiddenException(`this needs the role ${roles.join(' or ')}`);
    return true;
  }
}
