// A real coturn (Debian's `turnserver`) on loopback for the tests, with REST-API credentials (`use-auth-secret`)
// as the server's TURN_SECRET hands them out.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { isExecutable } from './executable.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export const turnserverPath = process.env.TURNSERVER_PATH ?? '/usr/bin/turnserver';

export const turnserverInstalled = (): boolean => isExecutable(turnserverPath);

export interface Coturn {
  port: number;
  secret: string;
  /** For TURN_URIS. */
  uri: string;
  /** Everything coturn logged so far. */
  log(): string;
  stop(): Promise<void>;
}

async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', resolve);
  });
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(resolve));
  return port;
}

/** Starts coturn on a free loopback port; resolves once its UDP listener is open. */
export async function startCoturn(readyWithinMs = 10_000): Promise<Coturn> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'teamspace-coturn-'));
  const secret = randomBytes(24).toString('hex');
  const port = await freeUdpPort();
  const child = spawn(turnserverPath, [
    // -n: not /etc/turnserver.conf, whose `syslog` would take the log away from us.
    '-n', '--listening-port', String(port), '--listening-ip', '127.0.0.1', '--relay-ip', '127.0.0.1',
    '--use-auth-secret', `--static-auth-secret=${secret}`, '--realm=test',
    // The SFU listens on loopback, so the relay must be allowed to reach loopback peers.
    '--allow-loopback-peers',
    '--no-cli', '--no-tls', '--no-dtls', '--no-tcp-relay',
    // Its own state, not the system's (/var/run, /var/lib/turn), so runs never meet.
    `--pidfile=${path.join(dir, 'turnserver.pid')}`, `--userdb=${path.join(dir, 'turndb')}`,
    // -v logs listeners and each allocation with its username.
    '--log-file=stdout', '--simple-log', '-v',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  async function stop(): Promise<void> {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    }
    await rm(dir, { recursive: true, force: true });
  }

  const ready = `UDP listener opened on: 127.0.0.1:${port}`;
  const deadline = Date.now() + readyWithinMs;
  while (!output.includes(ready)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`coturn did not open its listener on 127.0.0.1:${port} within ${readyWithinMs} ms:\n${output.slice(-2000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { port, secret, uri: `turn:127.0.0.1:${port}?transport=udp`, log: () => output, stop };
}
