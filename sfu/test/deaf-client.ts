// A /rtc client that never answers the server's close frame (nor its pings): just enough RFC 6455 over a raw TCP
// socket to send requests and read what comes back, so a test sees what the server does to a client that ignores
// being hung up on.
import { randomBytes } from 'node:crypto';
import net from 'node:net';

export interface DeafClient {
  /** Every text frame received, parsed, in order. */
  messages: any[];
  /** Close frames received (never answered). */
  closeFrames: { code: number; reason: string }[];
  /** Resolves with the time (Date.now()) the server ended the TCP connection. */
  gone: Promise<number>;
  /** Sends a request and returns its id; the answer, if any, lands in `messages`. */
  send(method: string, data?: object): number;
  /** Sends a request and waits for its answer; throws unless it is ok. */
  ok(method: string, data?: object): Promise<any>;
  destroy(): void;
}

export async function deafConnect(url: string): Promise<DeafClient> {
  const { hostname, port, pathname, search } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  const messages: any[] = [];
  const closeFrames: { code: number; reason: string }[] = [];
  const arrived = new Set<() => void>();
  const gone = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now())));
  let buffer = Buffer.alloc(0);
  let upgraded = false;
  let nextId = 1;

  const opened = new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (!upgraded) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buffer.subarray(0, end).toString();
        if (!head.startsWith('HTTP/1.1 101')) return reject(new Error(`no upgrade: ${head.split('\r\n')[0]}`));
        upgraded = true;
        buffer = buffer.subarray(end + 4);
        resolve();
      }
      readFrames();
    });
  });

  function readFrames(): void {
    for (;;) {
      if (buffer.length < 2) return;
      const opcode = buffer[0]! & 0x0f;
      let length = buffer[1]! & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (buffer.length < 4) return;
        length = buffer.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (buffer.length < 10) return;
        length = Number(buffer.readBigUInt64BE(2));
        offset = 10;
      }
      if (buffer.length < offset + length) return;
      const payload = buffer.subarray(offset, offset + length);
      buffer = buffer.subarray(offset + length);
      if (opcode === 0x1) {
        messages.push(JSON.parse(payload.toString()));
        for (const wake of arrived) wake();
      } else if (opcode === 0x8) {
        closeFrames.push({ code: payload.readUInt16BE(0), reason: payload.subarray(2).toString() });
      }
    }
  }

  function frame(text: string): Buffer {
    const payload = Buffer.from(text);
    const mask = randomBytes(4);
    const header = payload.length < 126 ? Buffer.from([0x81, 0x80 | payload.length]) : Buffer.from([0x81, 0x80 | 126, 0, 0]);
    if (payload.length >= 126) header.writeUInt16BE(payload.length, 2);
    return Buffer.concat([header, mask, payload.map((byte, i) => byte ^ mask[i % 4]!)]);
  }

  const key = randomBytes(16).toString('base64');
  socket.write(
    `GET ${pathname}${search} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  await opened;

  const client: DeafClient = {
    messages,
    closeFrames,
    gone,
    send(method, data = {}) {
      const id = nextId++;
      if (!socket.destroyed) socket.write(frame(JSON.stringify({ request: true, id, method, data })));
      return id;
    },
    async ok(method, data) {
      const id = client.send(method, data);
      const response = await new Promise<any>((resolve, reject) => {
        const check = () => {
          const found = messages.find((m) => m.response && m.id === id);
          if (!found) return;
          arrived.delete(check);
          clearTimeout(timer);
          resolve(found);
        };
        const timer = setTimeout(() => {
          arrived.delete(check);
          reject(new Error(`no response to ${method}`));
        }, 5000);
        arrived.add(check);
      });
      if (!response.ok) throw new Error(`${method} failed: ${JSON.stringify(response.error)}`);
      return response.data;
    },
    destroy: () => socket.destroy(),
  };
  return client;
}
