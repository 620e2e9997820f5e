import type { Request, RequestHandler, Response, Router } from 'express';
import type { z, ZodType } from 'zod';
import type { Endpoint } from '../../schema/index.ts';
import type { AuthUser } from '../../core/auth/users.ts';
import { ApiError, validationError } from '../../core/errors.ts';
import type { InFlight } from './in-flight.ts';

type Parsed<T> = [NonNullable<T>] extends [ZodType] ? z.output<NonNullable<T>> : undefined;

export interface RequestContext<E extends Endpoint> {
  body: Parsed<E['body']>;
  params: Parsed<E['params']>;
  query: Parsed<E['query']>;
  user: E['auth'] extends true ? AuthUser : AuthUser | undefined;
  req: Request;
  res: Response;
}

/** A response whose status differs from the endpoint's usual one (e.g. 200 instead of 201 for an existing DM). */
export class Reply {
  readonly status: number;
  readonly body: unknown;
  constructor(status: number, body: unknown) {
    this.status = status;
    this.body = body;
  }
}

export type Handler<E extends Endpoint> = (ctx: RequestContext<E>) => Promise<unknown>;

function parsePart<T extends ZodType>(schema: T, value: unknown, where: string): z.output<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw validationError(where, result.error);
  return result.data;
}

function checkContentType(req: Request, e: Endpoint): void {
  const accepted = e.multipart
    ? ['multipart/form-data']
    : e.bodyEncoding === 'form' ? ['application/x-www-form-urlencoded', 'application/json'] : ['application/json'];
  if (!req.is(accepted)) {
    throw new ApiError(415, 'unsupported_media_type', `send the body as ${accepted.join(' or ')}`);
  }
}

export interface RouteDeps {
  authenticate: RequestHandler;
  inFlight: InFlight;
}

/**
 * Returns a function that mounts endpoints on `router`: authentication when the endpoint asks for it,
 * validation of params, query and body against its schemas, then the handler, whose result is the response
 * body (JSON, or sent as is when it is a Buffer). Running handlers are tracked so shutdown can wait for them.
 */
export function mounter(router: Router, { authenticate, inFlight }: RouteDeps) {
  return <E extends Endpoint>(e: E, handler: Handler<E>): void => {
    const respond = async (req: Request, res: Response) => {
      if (e.body || e.multipart) checkContentType(req, e);
      const ctx = {
        params: e.params ? parsePart(e.params, req.params, 'params') : undefined,
        query: e.query ? parsePart(e.query, req.query, 'query') : undefined,
        body: e.body ? parsePart(e.body, req.body, 'body') : undefined,
        user: res.locals.user as AuthUser | undefined,
        req,
        res,
      } as RequestContext<E>;
      const result = await handler(ctx);
      // A handler that streamed its answer (Server-Sent Events) has already responded.
      if (res.headersSent) return;
      const { status, body } = result instanceof Reply ? result : { status: e.status, body: result };
      if (body === undefined) res.status(status).end();
      else if (Buffer.isBuffer(body)) res.status(status).send(body);
      else res.status(status).json(body);
    };
    const run: RequestHandler = (req, res) => {
      const work = respond(req, res);
      inFlight.track(work);
      return work;
    };
    router[e.method](e.path, ...(e.auth ? [authenticate, run] : [run]));
  };
}
