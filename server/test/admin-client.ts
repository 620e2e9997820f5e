// A browser-like client of the admin console for tests: keeps its cookies, reads each page's CSRF token, posts forms.
import type { TestServer } from './harness.ts';

export interface AdminResponse {
  status: number;
  location: string | null;
  html: string;
  setCookies: string[];
}

export interface AdminClient {
  cookies: Map<string, string>;
  get(path: string, headers?: Record<string, string>): Promise<AdminResponse>;
  /** Posts a form; `csrf: false` leaves the token out, a string sends that instead of the last page's. */
  post(path: string, fields?: Record<string, string>, options?: { csrf?: boolean | string; headers?: Record<string, string> }): Promise<AdminResponse>;
  /** Logs in through the form; returns the login's response. */
  login(username: string, password: string): Promise<AdminResponse>;
  /** The CSRF token of the last page read. */
  csrf: string | undefined;
}

const csrfIn = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1];

export function adminClient(server: Pick<TestServer, 'url'>): AdminClient {
  const cookies = new Map<string, string>();
  const client: AdminClient = {
    cookies,
    csrf: undefined,
    async get(path, headers = {}) {
      return request('GET', path, undefined, headers);
    },
    async post(path, fields = {}, options = {}) {
      const body = new URLSearchParams(fields);
      if (options.csrf !== false) body.set('_csrf', typeof options.csrf === 'string' ? options.csrf : (client.csrf ?? ''));
      return request('POST', path, body.toString(), { 'content-type': 'application/x-www-form-urlencoded', ...options.headers });
    },
    async login(username, password) {
      await client.get('/admin/login');
      return client.post('/admin/login', { username, password });
    },
  };
  async function request(method: string, path: string, body: string | undefined, headers: Record<string, string>) {
    const cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(server.url + path, { method, body, redirect: 'manual', headers: { ...(cookie ? { cookie } : {}), ...headers } });
    const setCookies = res.headers.getSetCookie();
    for (const line of setCookies) {
      const [pair, ...attributes] = line.split(';');
      const [name, value = ''] = pair!.split('=');
      const expired = attributes.some((a) => /expires=Thu, 01 Jan 1970/i.test(a));
      if (expired || !value) cookies.delete(name!.trim());
      else cookies.set(name!.trim(), value);
    }
    const html = await res.text();
    client.csrf = csrfIn(html) ?? client.csrf;
    return { status: res.status, location: res.headers.get('location'), html, setCookies };
  }
  return client;
}

/** Makes `user` a superuser directly in the database (the test's setup, not the feature under test). */
export async function makeSuperuser(server: TestServer, userId: string): Promise<void> {
  await server.database.pool.query('UPDATE users SET is_superuser = true WHERE id = $1', [userId]);
}
