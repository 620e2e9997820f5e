import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { ZodError } from 'zod';

/** An error meant for the client: its status, a stable machine-readable code and a human message. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details?: unknown;

  constructor(status: number, code: string, message: string, details?: unknown) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export const badRequest = (message: string, details?: unknown) => new ApiError(400, 'bad_request', message, details);
export const unauthorized = (message = 'authentication required', code = 'unauthorized') =>
  new ApiError(401, code, message);
export const forbidden = (message: string) => new ApiError(403, 'forbidden', message);
export const notFound = (what = 'resource') => new ApiError(404, 'not_found', `${what} not found`);
export const conflict = (message: string) => new ApiError(409, 'conflict', message);
export const unprocessable = (message: string) => new ApiError(422, 'validation_failed', message);

export function validationError(where: string, error: ZodError): ApiError {
  const details = error.issues.map((issue) => ({
    path: [where, ...issue.path.map(String)].join('.'),
    message: issue.message,
    code: issue.code,
  }));
  const first = details[0];
  return new ApiError(422, 'validation_failed', first ? `${first.path}: ${first.message}` : `invalid ${where}`, details);
}

interface ThirdPartyError {
  type?: string;
  status?: number;
  expose?: boolean;
  message?: string;
  code?: string;
}

/** Errors raised by body-parser carry a `type`; map the ones a client can cause to their own status. */
function fromBodyParser(err: ThirdPartyError): ApiError | undefined {
  switch (err.type) {
    case 'entity.parse.failed':
      return new ApiError(400, 'invalid_json', 'request body is not valid JSON');
    case 'entity.too.large':
      return new ApiError(413, 'payload_too_large', 'request body is too large');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new ApiError(415, 'unsupported_media_type', 'unsupported body encoding or charset');
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
      return new ApiError(400, 'bad_request', 'request body could not be read');
    case 'parameters.too.many':
      return new ApiError(413, 'payload_too_large', 'too many form parameters');
    default:
      return undefined;
  }
}

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new ApiError(404, 'not_found', `no route for ${req.method} ${req.path}`));
};

// PostgreSQL refuses text it cannot store (a NUL character, an invalid byte sequence): the input's fault.
const unstorableText = new Set(['22021', '22P05']);

/**
 * Anything else a client caused: express and its parsers mark such errors with a 4xx `status` (a malformed
 * percent-encoding in the path, a corrupt gzip body); their message is shown only when they say it is safe.
 */
function fromClientFault(err: ThirdPartyError): ApiError | undefined {
  if (err.code && unstorableText.has(err.code)) {
    return new ApiError(422, 'validation_failed', 'text contains characters that cannot be stored');
  }
  if (typeof err.status === 'number' && err.status >= 400 && err.status < 500) {
    return new ApiError(err.status, 'bad_request', err.expose && err.message ? err.message : 'bad request');
  }
  return undefined;
}

/** The last middleware: every error leaves as the documented JSON shape, never as a stack trace. */
export const errorHandler: ErrorRequestHandler = (err, req, res, _next) => {
  const apiError =
    err instanceof ApiError
      ? err
      : (fromBodyParser(err) ?? fromClientFault(err) ?? new ApiError(500, 'internal', 'internal server error'));
  if (apiError.status >= 500) req.log.error({ err }, 'request failed');
  if (res.headersSent) return;
  const body: { code: string; message: string; details?: unknown } = { code: apiError.code, message: apiError.message };
  if (apiError.details !== undefined) body.details = apiError.details;
  res.status(apiError.status).json({ error: body });
};
