import type { ZodType } from 'zod';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/**
 * One HTTP endpoint of the API: what it accepts and what it answers. The server validates requests against it
 * and the OpenAPI document is generated from it, so the two cannot drift apart.
 */
export interface Endpoint<
  Body extends ZodType | undefined = ZodType | undefined,
  Params extends ZodType | undefined = ZodType | undefined,
  Query extends ZodType | undefined = ZodType | undefined,
  Auth extends boolean = boolean,
> {
  method: Method;
  /** Express-style path under the server root, e.g. `/api/groups/:id`. */
  path: string;
  summary: string;
  tag: string;
  /** Whether a bearer access token is required. */
  auth: Auth;
  body?: Body;
  /** How the body is encoded; `form` also accepts JSON. */
  bodyEncoding?: 'json' | 'form';
  /**
   * The fields of a multipart/form-data body, for the documentation only: such a body is not parsed for the
   * handler, which streams the request itself (an upload is never buffered whole before its checks).
   */
  multipart?: ZodType;
  params?: Params;
  query?: Query;
  status: number;
  /** Schema of a successful response body; `null` for an empty (204) response or a binary one. */
  response: ZodType | null;
  /** Media types of a successful response that is raw bytes, not JSON (a download). */
  binaryResponse?: readonly string[];
  /** Other statuses this endpoint documents besides validation and auth failures. */
  errors?: number[];
}

export function endpoint<
  Body extends ZodType | undefined = undefined,
  Params extends ZodType | undefined = undefined,
  Query extends ZodType | undefined = undefined,
  Auth extends boolean = boolean,
>(definition: Endpoint<Body, Params, Query, Auth>): Endpoint<Body, Params, Query, Auth> {
  return definition;
}
