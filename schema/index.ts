export { migrate, type MigrationLog } from './migrate.ts';
export { buildOpenApiDocument } from './openapi.ts';
export { endpoint, type Endpoint, type Method } from './api/endpoint.ts';
export {
  endpoints, authEndpoints, groupEndpoints, channelEndpoints, contentEndpoints, callEndpoints, fileEndpoints,
} from './api/endpoints.ts';
export * from './api/common.ts';
export * from './api/auth.ts';
export * from './api/groups.ts';
export * from './api/channels.ts';
export * from './api/content.ts';
export * from './api/calls.ts';
export * from './api/ai.ts';
export * from './api/files.ts';
export * from './api/lifecycle.ts';
