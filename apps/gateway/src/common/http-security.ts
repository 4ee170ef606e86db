import type { NextFunction, Request, RequestHandler, Response } from 'express';
import helmet from 'helmet';
import { maskIdentityNumbers } from '@svu/identity';
import type { Logger } from '@nestjs/common';
import { bearerToken, sessionCookie } from './auth/auth.guard';

/** Routes of connected systems, not of the console: their edges are ingress's own (docs/console-security.md). */
const NOT_CONSOLE = /^\/ingress(?:\/|$)/;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const STRICT_CSP = {
  defaultSrc: ["'none'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  fontSrc: ["'self'"],
  formAction: ["'self'"],
  baseUri: ["'none'"],
  objectSrc: ["'none'"],
  frameAncestors: ["'none'"],
};

const headersFor = (styleSrc: string[]) =>
  helmet({
    contentSecurityPolicy: { useDefaults: false, directives: { ...STRICT_CSP, styleSrc } },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    // Set below only on answers that came over TLS: over plain HTTP it means nothing to a browser.
    strictTransportSecurity: false,
  });
const consoleHeaders = headersFor(["'self'"]);
// Swagger UI (the API documentation only) writes its layout in <style> blocks; scripts stay strict.
const docsHeaders = headersFor(["'self'", "'unsafe-inline'"]);

/**
 * Security headers on every console, API, health and metrics answer: a strict Content-Security-Policy
 * (scripts and styles from the gateway's own files only, no framing), nosniff, X-Frame-Options DENY,
 * no referrer; `Cache-Control: no-store` on /api (patient data, fallback PDFs); HSTS over TLS.
 */
export function securityHeaders(): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (NOT_CONSOLE.test(req.path)) return next();
    if (req.path === '/api' || req.path.startsWith('/api/')) res.setHeader('cache-control', 'no-store');
    if (req.secure) res.setHeader('strict-transport-security', 'max-age=31536000');
    const docs = req.path === '/api/docs' || req.path.startsWith('/api/docs/');
    return (docs ? docsHeaders : consoleHeaders)(req, res, next);
  };
}

/**
 * Why a request may not change anything, or undefined when it may: a state-changing request (not
 * GET, HEAD or OPTIONS) that a browser sent from another origin. The browser says so in `Origin` (which
 * must be this console's own, or one of `allowedOrigins`) or, without it, in `Sec-Fetch-Site`. A call
 * with a bearer token and no session cookie is not subject to it: a browser never adds that header on
 * its own, so another site cannot make one. A request with neither header comes from no browser.
 */
export function crossOriginRefusal(req: Pick<Request, 'method' | 'headers' | 'protocol' | 'host'>, allowedOrigins: readonly string[]): string | undefined {
  if (SAFE_METHODS.has(req.method)) return undefined;
  if (bearerToken(req) !== undefined && sessionCookie(req) === undefined) return undefined;
  const origin = req.headers.origin;
  if (typeof origin === 'string') {
    const own = `${req.protocol}://${req.host}`;
    if (origin === own || allowedOrigins.includes(origin)) return undefined;
    return `the request came from another origin (${origin}), not from this console (${own})`;
  }
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') return `the browser says the request came from another site (Sec-Fetch-Site: ${site})`;
  return undefined;
}

/** Refuses cross-origin state-changing requests with 403 and the reason (a CSRF defence besides SameSite cookies). */
export function refuseCrossOrigin(allowedOrigins: readonly string[], logger: Pick<Logger, 'warn'>): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (NOT_CONSOLE.test(req.path)) return next();
    const reason = crossOriginRefusal(req, allowedOrigins);
    if (reason === undefined) return next();
    logger.warn({ method: req.method, path: maskIdentityNumbers(req.path), origin: req.headers.origin, secFetchSite: req.headers['sec-fetch-site'] }, 'cross-origin request refused');
    res.status(403).json({ statusCode: 403, error: 'Forbidden', message: `cross-origin request refused: ${reason}` });
  };
}
