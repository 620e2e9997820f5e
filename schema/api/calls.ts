import { Timestamp, Uuid, z } from './common.ts';

export const TurnCredentials = z
  .object({
    username: z.string().openapi({ description: '`<expiry unix seconds>:<user id>`', example: '1795000000:0b6f3b0e-…' }),
    credential: z.string().openapi({ description: 'base64 HMAC-SHA1 of the username under the TURN secret' }),
    ttl: z.number().int().openapi({ description: 'seconds the credentials stay valid' }),
    uris: z.array(z.string()).openapi({ example: ['turn:turn.example.org:3478?transport=udp'] }),
  })
  .openapi('TurnCredentials');

export const CallProducer = z.object({
  id: z.string(),
  kind: z.enum(['audio', 'video']),
  source: z.enum(['mic', 'webcam', 'screen', 'screen-audio']),
  paused: z.boolean(),
});

export const CallParticipant = z
  .object({
    id: z.string().openapi({ description: 'the peer id, as in /rtc notifications' }),
    user_id: Uuid,
    username: z.string().openapi({ description: 'the verified account behind the display name' }),
    display_name: z.string().openapi({ description: 'as the participant chose it, cleaned of control and bidi characters' }),
    joined_at: Timestamp,
    producers: z.array(CallProducer),
  })
  .openapi('CallParticipant');

export const Call = z
  .object({ channel_id: Uuid, participants: z.array(CallParticipant) })
  .openapi('Call');
