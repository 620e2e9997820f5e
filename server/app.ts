import express from 'express';
import type { Registry } from 'prom-client';
import { buildOpenApiDocument, endpoints } from '../schema/index.ts';
import { authenticate } from '../core/auth/authenticate.ts';
import type { AccessTokens } from '../core/auth/tokens.ts';
import type { Collab, Keyring } from '../collab/index.ts';
import type { Ai } from '../ai/index.ts';
import { mountAiRoutes } from './ai/routes.ts';
import { mountAdmin } from './admin/index.ts';
import type { Calls } from '../sfu/index.ts';
import { mountCallRoutes } from './calls/routes.ts';
import { mountFileRoutes } from './files/routes.ts';
import { loginRateLimit, passwordConfirmRateLimit, registerRateLimit } from './auth/rate-limit.ts';
import { mountAccountRoutes } from './auth/account.ts';
import { mountAuthRoutes } from './auth/routes.ts';
import type { Config } from '../core/config.ts';
import type { AppContext } from './context.ts';
import type { Database } from '../core/db/database.ts';
import { errorHandler, notFoundHandler } from '../core/errors.ts';
import type { InFlight } from './http/in-flight.ts';
import { mountHealthRoutes } from './http/health.ts';
import { createHttpMetrics } from './http/metrics.ts';
import { requestLog } from './http/request-log.ts';
import { securityMiddleware, trustProxySetting } from './http/security.ts';
import { mountWebClient } from './http/web-client.ts';
import type { Licensing } from './license/licensing.ts';
import type { Logger } from '../core/logger.ts';
import type { AccessCache } from '../core/access/access-cache.ts';
import { mountDocumentRoutes } from './content/document.ts';
import { mountKanbanRoutes } from './content/kanban.ts';
import { mountMessageRoutes } from './content/messages.ts';
import { mountTaskRoutes } from './content/tasks.ts';
import { mountChannelRoutes } from './workspace/channels.ts';
import { mountChannelSettingsRoutes } from './workspace/channel-settings.ts';
import { mountGroupSettingsRoutes } from './workspace/group-settings.ts';
import { mountDmRoutes } from './workspace/dms.ts';
import { mountGroupRoutes } from './workspace/groups.ts';
import { mountMemberRoutes } from './workspace/members.ts';
import { mountPeopleRoutes } from './workspace/people.ts';

const openApiDocument = buildOpenApiDocument(Object.values(endpoints), { title: 'Teamspace API', version: '1' });

/** The HTTP application: a plain middleware chain, then the routes, then JSON errors for everything else. */
export interface AppParts {
  config: Config;
  database: Database;
  access: AccessCache;
  tokens: AccessTokens;
  collab: Collab;
  calls: Calls;
  ai: Ai;
  keyring: Keyring;
  licensing: Licensing;
  inFlight: InFlight;
  registry: Registry;
  log: Logger;
}

export function createApp(parts: AppParts): express.Express {
  const { config, database, access, tokens, log } = parts;
  const sessions = { tokens, refreshTtlDays: config.REFRESH_TOKEN_TTL_DAYS };
  const ctx: AppContext = {
    ...parts, db: database.pool, sessions, authenticate: authenticate(access.user, tokens),
  };
  const metrics = createHttpMetrics(parts.registry, config.METRICS_TOKEN);

  const app = express();
  app.set('trust proxy', trustProxySetting(config.TRUST_PROXY));
  app.set('query parser', 'simple');
  app.use(requestLog(log), metrics.middleware, ...securityMiddleware(config.CORS_ORIGINS));
  app.use(express.json({ limit: config.BODY_LIMIT }));
  app.use(express.urlencoded({ extended: false, limit: config.BODY_LIMIT, parameterLimit: 50 }));

  mountHealthRoutes(app, database.pool);
  app.get('/metrics', metrics.endpoint);
  app.get('/api/openapi.json', (_req, res) => {
    res.json(openApiDocument);
  });

  const api = express.Router();
  const limits = { limit: config.AUTH_RATE_LIMIT, windowSeconds: config.AUTH_RATE_WINDOW_SECONDS };
  api.use('/api/auth/token', ...loginRateLimit(limits));
  api.use('/api/auth/register', ...registerRateLimit(limits));
  // One count for both: either may be used to guess the password.
  const confirming = passwordConfirmRateLimit(limits);
  api.post('/api/auth/password', ...confirming);
  api.delete('/api/auth/me', ...confirming);
  mountAuthRoutes(api, ctx);
  mountAccountRoutes(api, ctx);
  mountGroupRoutes(api, ctx);
  mountGroupSettingsRoutes(api, ctx);
  mountMemberRoutes(api, ctx);
  mountPeopleRoutes(api, ctx);
  mountChannelRoutes(api, ctx);
  mountChannelSettingsRoutes(api, ctx);
  mountDmRoutes(api, ctx);
  mountTaskRoutes(api, ctx);
  mountKanbanRoutes(api, ctx);
  mountDocumentRoutes(api, ctx);
  mountMessageRoutes(api, ctx);
  mountCallRoutes(api, ctx);
  mountFileRoutes(api, ctx);
  mountAiRoutes(api, ctx);
  app.use(api);
  mountAdmin(app, { config, db: database.pool, access, collab: parts.collab, calls: parts.calls, ai: parts.ai, licensing: parts.licensing, log });
  mountWebClient(app, config.WEB_CLIENT_DIR, log);

  app.use(notFoundHandler, errorHandler);
  return app;
}
