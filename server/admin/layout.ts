import type { Response } from 'express';
import { html, type Fragment, type Html } from './html.ts';

/** The signed-in superuser a page is rendered for: the nav, and the CSRF token every form carries. */
export interface Viewer {
  userId: string;
  username: string;
  csrf: string;
}

const sections = [
  ['/admin', 'Overview'], ['/admin/users', 'Users'], ['/admin/groups', 'Groups'], ['/admin/channels', 'Channels'],
  ['/admin/files', 'Files'], ['/admin/audit', 'Audit log'], ['/admin/jobs', 'Jobs'], ['/admin/health', 'Health'],
] as const;

const style = html`<style>
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d232b;background:#f6f7f9}
header{background:#1d232b;color:#fff;padding:.6rem 1.2rem;display:flex;gap:1rem;align-items:center;flex-wrap:wrap}
header a{color:#cfe0ff;text-decoration:none}header a[aria-current]{color:#fff;font-weight:600}
header form{margin-left:auto}main{padding:1rem 1.2rem;max-width:1200px}
table{border-collapse:collapse;width:100%;background:#fff;margin:.5rem 0 1rem}
th,td{border-bottom:1px solid #e2e5ea;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#eef0f4}.flash{padding:.6rem .8rem;border-radius:4px;margin:.5rem 0}
.ok{background:#e3f6e8}.error{background:#fde7e7}.muted{color:#6b7480}
form.inline{display:inline}button{cursor:pointer}pre{white-space:pre-wrap;background:#fff;padding:.6rem}
.bar{display:inline-block;background:#4a7bd0;height:.8rem}
</style>`;

/** A whole page: the nav for a signed-in superuser (with logout), then `body`. */
export function page(title: string, body: Fragment, viewer?: Viewer, path = ''): Html {
  const nav = viewer
    ? html`<nav aria-label="Admin">${sections.map(([href, label]) =>
        html`<a href="${href}" ${href === path ? html`aria-current="page"` : ''}>${label}</a> `)}</nav>
      <form method="post" action="/admin/logout">${csrfField(viewer)}<span>${viewer.username}</span>
      <button type="submit">Log out</button></form>`
    : '';
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">
<title>${title} · Teamspace admin</title>${style}</head>
<body><header><strong>Teamspace admin</strong>${nav}</header><main><h1>${title}</h1>${body}</main></body></html>`;
}

export function csrfField(viewer: Viewer): Html {
  return html`<input type="hidden" name="_csrf" value="${viewer.csrf}">`;
}

/** A one-button form posting to `action` with the CSRF token and any hidden fields. */
export function actionForm(viewer: Viewer, action: string, label: string, fields: Record<string, string> = {}): Html {
  return html`<form class="inline" method="post" action="${action}">${csrfField(viewer)}${Object.entries(fields).map(
    ([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`)}<button type="submit">${label}</button></form>`;
}

/** What an action did, named in `?done=` after its redirect: known keys only, so a link cannot put words here. */
const doneMessages = {
  activated: 'The account is active again.',
  deactivated: 'The account is deactivated: its open connections were closed.',
  'sessions-revoked': 'Every session of the account is revoked.',
  'superuser-granted': 'The account is a superuser now.',
  'superuser-revoked': 'The account is no longer a superuser.',
  'message-deleted': 'The message is deleted.',
  'file-removed': 'The file is removed, and its AI chunks are queued for removal.',
  'ai-swept': 'Everything the AI index lacks is queued: the queued jobs below rebuild it.',
} as const;
export type Done = keyof typeof doneMessages;

/** A notice above a page's content: an error, or what the last action did (`?done=`). */
export function flash(kind: 'ok' | 'error', text: string | undefined): Html {
  const shown = kind === 'ok' ? doneMessages[text as Done] : text;
  return shown ? html`<p class="flash ${kind}" role="${kind === 'error' ? 'alert' : 'status'}">${shown}</p>` : html``;
}

/** Previous and next links of a paged list, keeping the other query parameters. */
export function pager(path: string, query: Record<string, string | undefined>, pageNo: number, hasMore: boolean): Html {
  const link = (n: number) => {
    const params = new URLSearchParams(Object.entries({ ...query, page: String(n) }).filter(([, v]) => v) as [string, string][]);
    return `${path}?${params}`;
  };
  return html`<nav aria-label="Pages">${pageNo > 1 ? html`<a href="${link(pageNo - 1)}">Previous</a> ` : ''}
    <span>page ${pageNo}</span>${hasMore ? html` <a href="${link(pageNo + 1)}">Next</a>` : ''}</nav>`;
}

export function send(res: Response, markup: Html, status = 200): void {
  res.status(status).set({ 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' }).send(markup.markup);
}

/** After an action: back to a page, with what was done shown there (POST, then redirect, then GET). */
export function redirectDone(res: Response, path: string, done: Done): void {
  const url = new URL(path, 'http://admin.invalid');
  url.searchParams.set('done', done);
  res.redirect(303, url.pathname + url.search);
}
