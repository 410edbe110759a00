// auditMiddleware: one audit event per Express request, recorded when the response has been sent (or the client went away).
import { STATUS_CODES } from 'node:http';
import {
  actionProblem,
  checkActorResult,
  checkFunction,
  checkOutcomeStatuses,
  errorMessage,
  InvalidOptionError,
  MAX_ACTION_LENGTH,
  refuseMisspelledOptions,
  reportUnrecorded,
  resolveOutcomeStatuses,
  type ActionCatalog,
  type AuditLogger,
  type Details,
  type OutcomeStatuses,
} from '@auditrail/core';
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';

/** Options of `auditMiddleware`; only `logger` is required. */
export interface ExpressAuditOptions<C extends ActionCatalog = ActionCatalog> {
  /** The AuditLogger that records the events. */
  logger: AuditLogger<C>;
  /**
   * The action of a request: a map from "METHOD /route" (the Express route pattern, e.g.
   * `POST /experiments/:id/hp`) to an action name, or a function; undefined leaves the request
   * unrecorded. Default: the "METHOD /route" text itself (the path when no route matched).
   */
  action?: Readonly<Record<string, string>> | ((req: Request, res: Response) => string | undefined);
  /** Which requests to record; default every POST, PUT, PATCH and DELETE (the ones that change something). */
  include?: (req: Request) => boolean;
  /** Header that names the actor (default 'x-actor'); `req.user` is read when it is absent. */
  actorHeader?: string;
  /** Who acts; overrides `actorHeader` and `req.user`. */
  actor?: (req: Request) => string | null | undefined;
  /** Details from the request and response (ids, changed fields). */
  details?: (req: Request, res: Response) => Details | undefined;
  /** Which HTTP statuses count as a failed action; default 400 and above (also when it throws, recorded as `failed_error`). */
  failed?: (statusCode: number) => boolean;
  /** Statuses for success and failure; default from the logger's scheme. */
  statuses?: Partial<OutcomeStatuses>;
  /** Called when an event could not be recorded (the response is already gone); default, and when it throws or rejects: a process warning. */
  onError?: (error: unknown, req: Request) => void;
}

/** Every option's name, for catching misspelled ones (the type check fails when this and ExpressAuditOptions disagree). */
export const EXPRESS_AUDIT_OPTION_NAMES: readonly string[] = Object.keys({
  logger: 0,
  action: 0,
  include: 0,
  actorHeader: 0,
  actor: 0,
  details: 0,
  failed: 0,
  statuses: 0,
  onError: 0,
} satisfies Record<keyof ExpressAuditOptions, 0>);

const CHANGING_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Errors seen by auditErrors(), by response, for the event written when that response ends. */
const routeErrors = new WeakMap<Response, unknown>();

/**
 * Error middleware, mounted after the routes: it remembers the error a route threw (or passed to
 * `next(err)`) so the request's event records it (`"Name: message"`) instead of only the HTTP
 * status, then hands the error on unchanged to the next error handler.
 */
export function auditErrors(): ErrorRequestHandler {
  return function auditrailErrors(err: unknown, _req: Request, res: Response, next: NextFunction): void {
    routeErrors.set(res, err);
    next(err);
  };
}

/**
 * Middleware that records one event per request it includes: action from the route, status
 * success or failure from the HTTP status, and details `method`, `route` (the matched Express
 * pattern, or null), `path` (without the query string, which may hold secrets), `status_code`,
 * `duration_ms`, plus your own details. A request whose client disconnects before the response
 * is complete is recorded as failed with `aborted: true`. Mount it before the routes.
 */
export function auditMiddleware<C extends ActionCatalog>(options: ExpressAuditOptions<C>): RequestHandler {
  const opts = checkOptions(options as unknown as ExpressAuditOptions);
  const logger = opts.logger as unknown as AuditLogger;
  resolveOutcomeStatuses(logger.statuses, opts.statuses); // fail now on a scheme without a failure status
  const include = opts.include ?? ((req: Request) => CHANGING_METHODS.has(req.method));
  const failed = opts.failed ?? failedByDefault;
  const report = (err: unknown, req: Request): void => {
    const onError = opts.onError;
    reportUnrecorded('an HTTP', err, `request ${defaultAction(req.method, pathOf(req))}`, onError && (() => onError(err, req)));
  };

  return function auditrail(req: Request, res: Response, next: NextFunction): void {
    const extra: Details = {};
    let included = true;
    try {
      included = Boolean(include(req));
    } catch (err) {
      extra.include_error = errorMessage(err); // neither fail the request nor skip it: record it, with the reason
    }
    if (!included) return next();
    const started = performance.now();
    const route = watchRoute(req);
    let done = false;
    const finish = (aborted: boolean): void => {
      if (done) return;
      done = true;
      try {
        record(aborted);
      } catch (err) {
        report(err, req); // runs in a response listener: a throw here would end the host process
      }
    };
    const record = (aborted: boolean): void => {
      const details: Details = { ...extra };
      const matched = route.pattern;
      const key = defaultAction(req.method, matched ?? pathOf(req));
      let action: string | undefined;
      try {
        action = typeof opts.action === 'function' ? opts.action(req, res) : (opts.action?.[key] ?? key);
        if (action === undefined) return; // the caller chose not to record this request
        const problem = actionProblem(action);
        if (problem) throw new Error(`action() returned a bad action name: ${problem}`);
      } catch (err) {
        details.action_error = errorMessage(err); // record under the default name rather than lose the event
        action = key;
      }
      attempt(details, 'details', () => Object.assign(details, opts.details?.(req, res)));
      const code = res.statusCode;
      Object.assign(details, { method: req.method, route: matched, path: pathOf(req), status_code: code, duration_ms: Math.round((performance.now() - started) * 1000) / 1000 });
      if (aborted) details.aborted = true;
      const statuses = resolveOutcomeStatuses(logger.statuses, opts.statuses);
      let isFailure = aborted;
      try {
        isFailure ||= Boolean(failed(code));
      } catch (err) {
        details.failed_error = errorMessage(err); // fall back to the default rule rather than lose the event
        isFailure = failedByDefault(code);
      }
      const thrown = routeErrors.get(res);
      const error = aborted
        ? 'client disconnected before the response was complete'
        : isFailure
          ? thrown instanceof Error
            ? thrown
            : `HTTP ${code} ${STATUS_CODES[code] ?? ''}`.trimEnd()
          : null;
      const actor = attempt(details, 'actor', () => actorOf(req, opts));
      logger.logEvent({ action, status: isFailure ? statuses.failure : statuses.success, details, error, actor: actor ?? null }).catch((err: unknown) => report(err, req));
    };
    res.once('finish', () => finish(false));
    res.once('close', () => finish(!res.writableFinished));
    next();
  };
}

/**
 * The full pattern of the route that handles a request (`/experiments/:id/hp`). Express sets
 * `req.route` when a route matches, while `req.baseUrl` still holds the router's mount path; by
 * the time an error has left the router, `req.baseUrl` has been restored and the pattern could
 * no longer be rebuilt. So the setter of `req.route` is watched and the pattern kept then.
 */
function watchRoute(req: Request): { readonly pattern: string | null } {
  const seen = { pattern: null as string | null };
  let current: unknown = req.route;
  Object.defineProperty(req, 'route', {
    configurable: true,
    enumerable: true,
    get: () => current,
    set: (value: unknown) => {
      current = value;
      const path = (value as { path?: unknown } | undefined)?.path;
      if (typeof path === 'string') seen.pattern = `${req.baseUrl}${path}`;
    },
  });
  return seen;
}

function failedByDefault(code: number): boolean {
  return code >= 400;
}

function actorOf(req: Request, options: ExpressAuditOptions): string | null | undefined {
  if (options.actor) return checkActorResult(options.actor(req));
  const header = req.get(options.actorHeader ?? 'x-actor');
  if (header) return header;
  const user = (req as Request & { user?: unknown }).user;
  if (typeof user === 'string') return user;
  if (typeof user === 'object' && user !== null) {
    for (const key of ['id', 'username', 'name', 'email']) {
      const value = (user as Record<string, unknown>)[key];
      if (typeof value === 'string' || typeof value === 'number') return String(value);
    }
  }
  return undefined;
}

/**
 * "METHOD /route", or for a request no route matched, "METHOD /path" cut to the logger's MAX_ACTION_LENGTH (256) characters
 * (a long URL, which a client chooses, must not cost the event: the whole path is in details.path).
 */
function defaultAction(method: string, path: string): string {
  const action = `${method} ${path}`;
  return action.length <= MAX_ACTION_LENGTH ? action : `${action.slice(0, MAX_ACTION_LENGTH - 1)}…`;
}

function pathOf(req: Request): string {
  const url = req.originalUrl || req.url;
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/** Runs a user function; a throw is recorded as `<label>_error` instead of losing the event. */
function attempt<T>(details: Details, label: string, get: () => T): T | undefined {
  try {
    return get();
  } catch (err) {
    details[`${label}_error`] = errorMessage(err);
    return undefined;
  }
}

function checkOptions(options: ExpressAuditOptions): ExpressAuditOptions {
  // `action` maps routes to names: its keys are not options, and not judged here.
  if (typeof options === 'object' && options !== null) refuseMisspelledOptions(options, EXPRESS_AUDIT_OPTION_NAMES);
  checkOutcomeStatuses(options?.statuses);
  if (!options || typeof options.logger?.logEvent !== 'function') throw new InvalidOptionError('logger', 'must be an AuditLogger');
  const action = options.action;
  if (action !== undefined && typeof action !== 'function' && (typeof action !== 'object' || action === null || Array.isArray(action))) {
    throw new InvalidOptionError('action', 'must be a map from "METHOD /route" to an action name, or a function');
  }
  if (typeof action === 'object') {
    for (const [key, name] of Object.entries(action)) {
      const problem = actionProblem(name);
      if (problem) throw new InvalidOptionError(`action.${key}`, problem);
    }
  }
  for (const key of ['include', 'actor', 'details', 'failed', 'onError'] as const) checkFunction(key, options[key]);
  if (options.actorHeader !== undefined && (typeof options.actorHeader !== 'string' || options.actorHeader === '')) throw new InvalidOptionError('actorHeader', 'must be a header name');
  return options;
}
