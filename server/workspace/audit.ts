import type { Queryable } from '../db/database.ts';

export interface AuditEvent {
  actorId: string;
  groupId: string;
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
