import type { Queryable } from '../../core/db/database.ts';

export interface AdminAction {
  actorId: string;
  action: string;
  targetType: 'user' | 'group' | 'channel' | 'message' | 'file' | 'session' | 'ai_index';
  targetId: string | null;
  details?: Record<string, unknown>;
}

/** Records what a superuser did; called in the same transaction as the action where there is one. */
export async function recordAdminAction(db: Queryable, a: AdminAction): Promise<void> {
  await db.query(
    'INSERT INTO admin_audit (actor_id, action, target_type, target_id, details) VALUES ($1, $2, $3, $4, $5)',
    [a.actorId, a.action, a.targetType, a.targetId, JSON.stringify(a.details ?? {})],
  );
}

export interface AuditEntry {
  source: 'admin' | 'group';
  id: string;
  created_at: Date;
  actor: string | null;
  action: string;
  target: string | null;
  group_name: string | null;
  details: Record<string, unknown>;
}

/** The console's actions and every group's audit together, newest first, a page at a time. */
export async function auditPage(db: Queryable, limit: number, offset: number): Promise<AuditEntry[]> {
  const { rows } = await db.query<AuditEntry>(
    `SELECT * FROM (
       SELECT 'admin' AS source, a.id::text, a.created_at, actor.username AS actor, a.action,
              a.target_type || coalesce(':' || a.target_id, '') AS target, NULL AS group_name, a.details
         FROM admin_audit a LEFT JOIN users actor ON actor.id = a.actor_id
       UNION ALL
       SELECT 'group', l.id::text, l.created_at, actor.username, l.action, target.username, g.name, l.details
         FROM audit_log l LEFT JOIN users actor ON actor.id = l.actor_id
         LEFT JOIN users target ON target.id = l.target_user_id LEFT JOIN groups g ON g.id = l.group_id
     ) entries ORDER BY created_at DESC, source, id::bigint DESC LIMIT $1 OFFSET $2`,
    [limit, offset],
  );
  return rows;
}
