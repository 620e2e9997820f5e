// The baseline for bench/collab/index.ts: bare Hocuspocus (no extensions, auth or persistence) taking WebSocket
// upgrades through `ws` exactly as collab/server.ts does, so the two differ only by what we add to Hocuspocus.
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Hocuspocus } from '@hocuspocus/server';
import { WebSocketServer } from 'ws';
import { collectedMemory, serveUntilTold } from '../shared/child.ts';

const hocuspocus = new Hocuspocus({ quiet: true });
const sockets = new WebSocketServer({ noServer: true });
const http = createServer((_req, res) => res.writeHead(404).end());
http.on('upgrade', (request, socket, head) => {
  sockets.handleUpgrade(request, socket, head, (ws) => {
    const headers = new Headers();
    for (const [name, value] of Object.entries(request.headers)) {
      if (typeof value === 'string') headers.set(name, value);
    }
    const client = hocuspocus.handleConnection(ws, new Request(`http://localhost${request.url ?? '/'}`, { headers }));
    ws.on('message', (data: Buffer) => client.handleMessage(new Uint8Array(data)));
    ws.on('close', (code, reason) => client.handleClose({ code, reason: reason.toString() }));
    ws.on('error', () => {});
  });
});
http.listen(0, '127.0.0.1');
await once(http, 'listening');
const { port } = http.address() as AddressInfo;
serveUntilTold({ url: `http://127.0.0.1:${port}`, pid: process.pid }, async () => {
  for (const ws of sockets.clients) ws.terminate();
  hocuspocus.closeConnections();
  sockets.close();
  await new Promise<void>((resolve) => http.close(() => resolve()));
}, {
  mem: collectedMemory,
  docs: () => ({ documents: hocuspocus.getDocumentsCount(), connections: hocuspocus.getConnectionsCount() }),
});
