import { Inject, Injectable, SetMetadata, UnauthorizedException, ForbiddenException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { randomBytes } from 'node:crypto';
import type { Request } from 'express';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config/gateway-config';
import { verifySession, type Session } from './session';
import type { Role } from './users';

const PUBLIC = 'svu:public';
const ROLES = 'svu:roles';

/** A route anyone may call (health, ingress from connected systems, login). */
export const Public = () => SetMetadata(PUBLIC, true);
/** A route only these roles may call; without it, any signed-in user may. */
export const Roles = (...roles: Role[]) => SetMetadata(ROLES, roles);

export const SESSION_COOKIE = 'svu_session';

/** The secret that signs sessions. */
@Injectable()
export class SessionSecret {
  readonly value: Buffer;
  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    this.value = config.sessionSecret ?? randomBytes(32);
  }
}

export type AuthedRequest = Request & { session?: Session };

function tokenOf(req: Request): string | undefined {
  const header = req.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice(7);
  const cookies = req.headers.cookie ?? '';
  for (const part of cookies.split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === SESSION_COOKIE) return decodeURIComponent(value.join('='));
  }
  return undefined;
}

/** Every route needs a signed-in user unless marked public; actions need the operator role. */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly secret: SessionSecret,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC, targets)) return true;
    const req = context.switchToHttp().getRequest<AuthedRequest>();
    const token = tokenOf(req);
    const session = token === undefined ? undefined : verifySession(token, this.secret.value, Date.now());
    if (session === undefined) throw new UnauthorizedException('sign in first');
    req.session = session;
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES, targets);
    if (roles !== undefined && !roles.includes(session.role)) throw new ForbiddenException(`this needs the role ${roles.join(' or ')}`);
    return true;
  }
}
