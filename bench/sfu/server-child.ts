// Our real server for bench/sfu/index.ts, started the way production starts it (SFU_WORKERS=1), configured from
// the env. The call's room is opened by real signaling clients; `feed` then finds it and gives its router the
// generator's producers through the room, as `produce` would.
import { createLogger, loadConfig } from '../../core/index.ts';
import { startServer } from '../../server/index.ts';
import { serveUntilTold } from '../shared/child.ts';
import { mediaCommands } from './media.ts';

const config = loadConfig(process.env);
const server = await startServer(config, createLogger(config.LOG_LEVEL));
const [worker] = server.calls.workers();
if (!worker) {
  await server.close();
  throw new Error('calls are off: no mediasoup worker (run scripts/install-mediasoup-worker.sh)');
}
serveUntilTold({ url: server.url, pid: process.pid, worker_pid: worker.pid }, () => server.close(), mediaCommands((request) => {
  const room = server.calls.roomOf(request.channel_id ?? '');
  if (!room) throw new Error('no call in that channel: the signaling clients join first');
  return {
    router: room.router,
    async announce(sender, producer) {
      const peer = room.peers.get(request.peer_ids?.[sender] ?? '');
      if (!peer) throw new Error(`sender ${sender} is not in the call`);
      await room.addProducer(peer, producer);
    },
  };
}));
