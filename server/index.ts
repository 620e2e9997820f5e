export { startServer, type RunningServer } from './server.ts';
export { createApp } from './app.ts';
export { loadConfig, ConfigError, type Config } from './config.ts';
export { createLogger, type Logger } from './logger.ts';
export { openDatabase, inTransaction, type Database, type Queryable } from './db/database.ts';
export { userFromToken } from './auth/authenticate.ts';
export type { AuthUser } from './auth/users.ts';
export { channelAccess, requireChannelRole, requireGroupRole, roleAtLeast, type Role, type ChannelAccess } from './workspace/access.ts';
export { ApiError } from './http/errors.ts';
