import { networkInterfaces } from 'node:os';

/**
 * The address put in ICE candidates. Listening on a wildcard address needs an announced one: the configured
 * one, else this machine's first non-internal IPv4 address, else loopback (a machine with no network).
 */
export function listenIps(listenIp: string, announcedIp?: string): { ip: string; announcedIp?: string }[] {
  if (announcedIp) return [{ ip: listenIp, announcedIp }];
  if (listenIp !== '0.0.0.0' && listenIp !== '::') return [{ ip: listenIp }];
  const external = Object.values(networkInterfaces())
    .flat()
    .find((info) => info && info.family === 'IPv4' && !info.internal);
  return [{ ip: listenIp, announcedIp: external?.address ?? '127.0.0.1' }];
}
