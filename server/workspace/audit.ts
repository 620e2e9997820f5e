import type { Queryable } from '../../core/db/database.ts';

export interface AuditEvent {
  actorId: string;
  /** null for what outlives a group or belongs to none: a group's deletion, an account's own changes. */
  groupId: string | null;
  action: string;
  targetUserId?: string;
  details?: Record<string, unknown>;
}

/** Records a change of structure or membership; callers write it in the same transaction as the change. */
export async function audit(db: Queryable, event: AuditEvent): Promise<void> {
  await db.query(
    `INSERT INTO audit_log (actor_id, group_id, action, target_user_id, details) VALUES ($1, $2, $3, $4, $5)`,
    [event.actorId, event.groupId, event.action, event.targetUserId ?? null, JSON.stringify(event.details ?? {})],
  );
}

/** What a rename or description changed, as {field: {from, to}}, for an audit entry's details. */
export function changesOf(
  before: { name: string; description: string },
  after: { name?: string; description?: string },
): Record<string, { from: string; to: string }> {
  const changes: Record<string, { from: string; to: string }> = {};
  for (const field of ['name', 'description'] as const) {
    const to = after[field];
    if (to !== undefined && to !== before[field]) changes[field] = { from: before[field], to };
  }
  return changes;
}
