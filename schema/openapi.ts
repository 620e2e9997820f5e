import { OpenApiGeneratorV31, OpenAPIRegistry, type ResponseConfig, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { ErrorBody } from './api/common.ts';
import type { Endpoint } from './api/endpoint.ts';

const errorDescriptions: Record<number, string> = {
  400: 'Malformed request (e.g. invalid JSON)',
  401: 'Missing, invalid or expired credentials',
  403: 'Not allowed for your role',
  404: 'Not found, or not visible to you',
  409: 'Conflicts with the current state',
  413: 'Body too large',
  415: 'Unsupported content type',
  422: 'Failed validation; `details` lists the problems',
  429: 'Too many requests',
};

function success(e: Endpoint): ResponseConfig {
  if (e.response) return { description: 'Success', content: { 'application/json': { schema: e.response } } };
  if (e.binaryResponse) {
    const bytes = { schema: { type: 'string' as const, format: 'binary' } };
    return { description: 'Success: the bytes', content: Object.fromEntries(e.binaryResponse.map((t) => [t, bytes])) };
  }
  return { description: 'Success, no content' };
}

/** Builds the OpenAPI 3.1 document from the endpoint definitions the server itself validates against. */
export function buildOpenApiDocument(endpoints: Endpoint[], info: { title: string; version: string }) {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  const errorResponse = (status: number) => ({
    description: errorDescriptions[status] ?? 'Error',
    content: { 'application/json': { schema: ErrorBody } },
  });
  for (const e of endpoints) {
    const statuses = new Set<number>([
      ...(e.body || e.params || e.query ? [400, 422] : []),
      ...(e.body || e.multipart ? [413, 415] : []),
      ...(e.auth ? [401] : []),
      ...(e.errors ?? []),
    ]);
    const route: RouteConfig = {
      method: e.method,
      path: e.path.replace(/:(\w+)/g, '{$1}'),
      summary: e.summary,
      tags: [e.tag],
      security: e.auth ? [{ bearer: [] }] : [],
      request: {
        ...(e.params ? { params: e.params as never } : {}),
        ...(e.query ? { query: e.query as never } : {}),
        ...(e.body
          ? {
              body: {
                required: true,
                content:
                  e.bodyEncoding === 'form'
                    ? { 'application/x-www-form-urlencoded': { schema: e.body }, 'application/json': { schema: e.body } }
                    : { 'application/json': { schema: e.body } },
              },
            }
          : {}),
        ...(e.multipart ? { body: { required: true, content: { 'multipart/form-data': { schema: e.multipart } } } } : {}),
      },
      responses: {
        [e.status]: success(e),
        ...Object.fromEntries([...statuses].map((s) => [s, errorResponse(s)])),
      },
    };
    registry.registerPath(route);
  }
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({ openapi: '3.1.0', info });
}
