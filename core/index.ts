// The ground every part stands on: configuration, logging, the database, errors in the API's shape, tokens, and who
// may do what. It imports only `schema` (migrations) and libraries; everything else imports it (scripts/check-layers.ts).
export { loadConfig, ConfigError, type Config } from './config.ts';
export { createLogger, routeConsole, type Logger } from './logger.ts';
export { openDatabase, inTransaction, type Database, type Queryable } from './db/database.ts';
export { createScratchDatabase, type ScratchDatabase } from './db/scratch.ts';
export { ApiError } from './errors.ts';
export { accessTokens, type AccessTokens } from './auth/tokens.ts';
export { userFromToken, type TokenSession } from './auth/authenticate.ts';
export type { AuthUser } from './auth/users.ts';
export { channelAccess, readsOnly, requireChannelRole, requireGroupRole, roleAtLeast, type Role, type ChannelAccess } from './access/access.ts';
export { createAccessCache, type AccessCache, type GroupView } from './access/access-cache.ts';
export { readWithin } from './metrics.ts';
