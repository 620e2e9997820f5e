import { z, Name, Timestamp, Uuid } from './common.ts';

export const ChannelType = z.enum(['TEXT', 'VOICE', 'TODO', 'DOC', 'KANBAN', 'DM']).openapi('ChannelType');

export const CreateChannelRequest = z
  .strictObject({
    name: Name(80),
    type: ChannelType.exclude(['DM']).openapi({ description: 'DM channels are made with POST /api/dms' }),
  })
  .openapi('CreateChannelRequest');

export const Channel = z
  .object({
    id: Uuid,
    group_id: Uuid.nullable().openapi({ description: 'null for a DM' }),
    name: z.string(),
    type: ChannelType,
    description: z.string(),
    archived_at: Timestamp.nullable().openapi({ description: 'when it was archived (read-only for everyone); null when not' }),
    created_by: Uuid.nullable(),
    created_at: Timestamp,
    participant_ids: z.array(Uuid).optional().openapi({ description: 'the two users of a DM' }),
  })
  .openapi('Channel');

export const CreateDmRequest = z.strictObject({ user_id: Uuid }).openapi('CreateDmRequest');
