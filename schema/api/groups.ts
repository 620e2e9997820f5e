import { z, Name, Text, Timestamp, Uuid } from './common.ts';

export const Role = z.enum(['owner', 'admin', 'member', 'viewer']).openapi('Role');

export const CreateGroupRequest = z
  .strictObject({ name: Name(100), description: Text().trim().max(1000).optional() })
  .openapi('CreateGroupRequest');

export const Group = z
  .object({
    id: Uuid,
    name: z.string(),
    description: z.string(),
    created_by: Uuid.nullable(),
    created_at: Timestamp,
    role: Role.openapi({ description: "the caller's role in this group" }),
  })
  .openapi('Group');

export const AddMemberRequest = z
  .strictObject({
    user_id: Uuid.optional(),
    username: Text().min(1).max(32).optional(),
    role: Role.default('member'),
  })
  .refine((body) => (body.user_id === undefined) !== (body.username === undefined), {
    message: 'give exactly one of user_id and username',
  })
  .openapi('AddMemberRequest');

export const UpdateMemberRequest = z.strictObject({ role: Role }).openapi('UpdateMemberRequest');

export const MemberParams = z.strictObject({ id: Uuid, user_id: Uuid });

export const Member = z
  .object({
    user_id: Uuid,
    username: z.string(),
    display_name: z.string().nullable(),
    role: Role,
    joined_at: Timestamp,
  })
  .openapi('Member');

/** Who a user id is, for showing names: people the caller shares a group or a DM with, themselves, and bots. */
export const Person = z
  .object({
    id: Uuid,
    username: z.string(),
    display_name: z.string().nullable(),
    is_bot: z.boolean(),
    is_deleted: z.boolean().openapi({ description: 'the account was deleted: show its content as by a deleted user' }),
  })
  .openapi('Person');

export const PeopleQuery = z.strictObject({
  ids: z
    .string()
    .transform((s) => s.split(','))
    .pipe(z.array(Uuid).min(1).max(200))
    .openapi({ description: 'comma-separated user ids (at most 200)' }),
});

export const AuditEntry = z
  .object({
    id: z.number().int(),
    actor_id: Uuid.nullable(),
    action: z.string(),
    target_user_id: Uuid.nullable(),
    details: z.record(z.string(), z.unknown()),
    created_at: Timestamp,
  })
  .openapi('AuditEntry');

export const PageQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  before: z.coerce.number().int().positive().optional(),
});
