import type { Router } from 'express';
import type pg from 'pg';
import { z } from 'zod';
import type { Ai } from '../../ai/index.ts';
import { auditPage, recordAdminAction } from './audit.ts';
import { viewerOf } from './guard.ts';
import { html } from './html.ts';
import { actionForm, flash, page, pager, redirectDone, send } from './layout.ts';
import { PAGE_SIZE, pageNumber, parse, splitPage } from './params.ts';

/** The audit log (the console's actions and every group's) and the AI indexing queue, which it can rebuild. */
export function mountOperationPages(router: Router, db: pg.Pool, ai: Pick<Ai, 'sweep'>): void {
  router.get('/admin/audit', async (req, res) => {
    const query = parse(z.object({ page: pageNumber }), req.query, 'query');
    const { rows, hasMore } = splitPage(await auditPage(db, PAGE_SIZE + 1, (query.page - 1) * PAGE_SIZE));
    send(res, page('Audit log', html`<p class="muted">Newest first: the console's actions (admin) and the groups' own audit (group).</p>
      <table><thead><tr><th>When</th><th>Source</th><th>Actor</th><th>Action</th><th>Target</th><th>Group</th><th>Details</th></tr></thead>
      <tbody>${rows.map((e) => html`<tr data-testid="audit-entry" data-action="${e.action}"><td>${e.created_at}</td><td>${e.source}</td>
        <td>${e.actor ?? (e.source === 'admin' ? 'setup' : '')}</td><td>${e.action}</td><td>${e.target ?? ''}</td><td>${e.group_name ?? ''}</td>
        <td><code>${JSON.stringify(e.details)}</code></td></tr>`)}</tbody></table>
      ${pager('/admin/audit', {}, query.page, hasMore)}`, viewerOf(res), '/admin/audit'));
  });

  router.get('/admin/jobs', async (req, res) => {
    const query = parse(z.object({
      status: z.enum(['queued', 'running', 'failed']).default('failed'), page: pageNumber, done: z.string().optional(),
    }), req.query, 'query');
    const { rows: counts } = await db.query<{ status: string; count: number }>(
      `SELECT status, count(*)::int AS count FROM jobs WHERE status <> 'done' GROUP BY status`,
    );
    const { rows, hasMore } = splitPage((await db.query<{
      id: string; kind: string; payload: unknown; attempts: number; run_at: Date; locked_by: string | null; last_error: string | null; created_at: Date;
    }>(
      `SELECT id::text, kind, payload, attempts, run_at, locked_by, last_error, created_at FROM jobs
        WHERE status = $1 ORDER BY id DESC LIMIT $2 OFFSET $3`,
      [query.status, PAGE_SIZE + 1, (query.page - 1) * PAGE_SIZE],
    )).rows);
    const count = (status: string) => counts.find((c) => c.status === status)?.count ?? 0;
    const viewer = viewerOf(res);
    send(res, page('Jobs', html`${flash('ok', query.done)}
      <p>${actionForm(viewer, '/admin/jobs/sweep', 'Rebuild the AI index')} <span class="muted">queues every channel, chat
      segment and file that has no chunks (as after a restore without Chroma's data), and drops chunks of what is gone;
      the periodic sweep does the same every AI_SWEEP_INTERVAL_SECONDS</span></p>
      <p>The AI indexing queue:
      ${(['queued', 'running', 'failed'] as const).map((s) => html`<a href="/admin/jobs?status=${s}" ${s === query.status ? html`aria-current="page"` : ''}>${s} (${count(s)})</a> `)}</p>
      <table><thead><tr><th>Id</th><th>Kind</th><th>What</th><th>Attempts</th><th>Run at</th><th>Worker</th><th>Error</th></tr></thead>
      <tbody>${rows.map((j) => html`<tr data-testid="job"><td>${j.id}</td><td>${j.kind}</td><td><code>${JSON.stringify(j.payload)}</code></td>
        <td>${j.attempts}</td><td>${j.run_at}</td><td>${j.locked_by ?? ''}</td><td>${j.last_error ?? ''}</td></tr>`)}</tbody></table>
      ${pager('/admin/jobs', { status: query.status }, query.page, hasMore)}`, viewer, '/admin/jobs'));
  });

  router.post('/admin/jobs/sweep', async (_req, res) => {
    const result = await ai.sweep();
    await recordAdminAction(db, { actorId: viewerOf(res).userId, action: 'ai.sweep', targetType: 'ai_index', targetId: null, details: result });
    redirectDone(res, '/admin/jobs?status=queued', 'ai-swept');
  });
}
