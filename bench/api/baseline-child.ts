// The baseline: a bare express 5 app answering GET /api/groups with the body given in BENCH_BODY, no middleware.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { serveUntilTold } from '../shared/child.ts';

const body: unknown = JSON.parse(process.env.BENCH_BODY ?? 'null');
const app = express();
app.get('/api/groups', (_req, res) => {
  res.json(body);
});
const http = app.listen(0, '127.0.0.1');
await once(http, 'listening');
const { port } = http.address() as AddressInfo;
serveUntilTold({ url: `http://127.0.0.1:${port}`, pid: process.pid }, async () => {
  http.closeAllConnections();
  await new Promise<void>((resolve) => http.close(() => resolve()));
});
