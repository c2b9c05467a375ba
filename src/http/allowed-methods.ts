/**
 * Which methods each path has, for answering a wrong method with 405 and an `Allow` header (as KIE's JAX-RS
 * runtime does) rather than a 404 that reads as "no such path". Routes are collected as Fastify registers them.
 */
import type { RouteOptions } from 'fastify';

interface RoutePattern {
  pattern: RegExp;
  method: string;
}

/** `/jobs/:jobId` matches one path segment per parameter; `/console/*` anything below. */
function patternOf(url: string): RegExp {
  const trimmed = url.length > 1 ? url.replace(/\/+$/, '') : url;
  const source = trimmed
    .split(/(:[A-Za-z0-9_]+|\*)/)
    .map((part) =>
      part === '*' ? '.*' : part.startsWith(':') ? '[^/]+' : part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('');
  return new RegExp(`^${source}$`);
}

export class AllowedMethods {
  private readonly routes: RoutePattern[] = [];

  /** An onRoute hook: add it before the routes are registered. */
  readonly onRoute = (route: RouteOptions): void => {
    const pattern = patternOf(route.url);
    for (const method of Array.isArray(route.method) ? route.method : [route.method])
      this.routes.push({ pattern, method: method.toUpperCase() });
  };

  /** The methods that `path` (without its query) has, sorted; empty when no route has the path. */
  of(path: string): string[] {
    const bare = path.length > 1 ? path.replace(/\/+$/, '') : path;
    const methods = new Set(
      this.routes.filter((route) => route.pattern.test(bare)).map((route) => route.method),
    );
    return [...methods].sort();
  }
}
