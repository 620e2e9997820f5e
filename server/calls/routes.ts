import type { Router } from 'express';
import { turnCredentials } from '../../sfu/index.ts';
import { callEndpoints as api } from '../../schema/index.ts';
import type { AppContext } from '../context.ts';
import { ApiError } from '../../core/errors.ts';
import { mounter } from '../http/route.ts';
import { contentChannel } from '../content/access.ts';

export function mountCallRoutes(router: Router, app: AppContext): void {
  const { db, calls, config } = app;
  const route = mounter(router, app);

  route(api.turnCredentials, async ({ user }) => {
    if (!config.TURN_SECRET || !config.TURN_URIS.length) {
      throw new ApiError(503, 'unavailable', 'TURN is not configured on this server (TURN_SECRET and TURN_URIS)');
    }
    return turnCredentials({ secret: config.TURN_SECRET, uris: config.TURN_URIS, ttlSeconds: config.TURN_TTL_SECONDS }, user.id);
  });

  route(api.getCall, async ({ params, user }) => {
    await contentChannel(db, params.id, user.id, ['VOICE'], 'viewer');
    if (!calls.available) throw new ApiError(503, 'unavailable', 'calls are off on this server');
    return { channel_id: params.id, participants: calls.participants(params.id) };
  });
}
