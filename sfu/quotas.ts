import { SignalingError } from './protocol.ts';
import { TokenBucket } from './token-bucket.ts';

/** What one account may hold at once, across all its /rtc connections. */
export interface UserLimits {
  maxConnectionsPerUser: number;
  maxPeersPerUserPerRoom: number;
  maxRoomsPerUser: number;
  maxTransportsPerUser: number;
  /** Sustained requests per second over all the user's connections; bursts of twice that pass. */
  userRequestsPerSecond: number;
}

/** What the quotas read of a connection: the call it has a peer in, if any. */
export interface QuotaMember {
  readonly joinedChannel: string | undefined;
}

interface Usage {
  readonly members: Set<QuotaMember>;
  readonly requests: TokenBucket;
  transports: number;
}

/** One connection's view of its user's quota. */
export interface UserQuota {
  /** The user's request allowance, shared by all their connections. */
  readonly requests: TokenBucket;
  /** Throws `limit_reached` unless the user may add a peer to this channel's call. */
  admitPeer(channelId: string): void;
  /** Counts one more transport (its ports) or throws; returns its release, which may be called more than once. */
  reserveTransport(): () => void;
  /** The connection closed. */
  release(): void;
}

// A user's request allowance refills in two seconds; kept that long after their last connection, so that
// reconnecting does not refill it.
const FORGET_AFTER_MS = 2000;

/**
 * Per-user limits on calls, and the server-wide budget of media ports: each WebRTC transport holds one port of
 * the RTC range per protocol, so there are as many transports as ports in the range, whichever user asks.
 */
export class Quotas {
  private readonly users = new Map<string, Usage>();
  private transports = 0;
  private readonly limits: UserLimits;
  private readonly portCapacity: number;

  constructor(limits: UserLimits, portCapacity: number) {
    this.limits = limits;
    this.portCapacity = portCapacity;
  }

  /** Counts a new connection of the user; undefined when they already have as many as they may. */
  connect(userId: string, member: QuotaMember): UserQuota | undefined {
    let usage = this.users.get(userId);
    if (!usage) {
      usage = { members: new Set(), requests: new TokenBucket(this.limits.userRequestsPerSecond), transports: 0 };
      this.users.set(userId, usage);
    }
    if (usage.members.size >= this.limits.maxConnectionsPerUser) return undefined;
    usage.members.add(member);
    const found = usage;
    return {
      requests: found.requests,
      admitPeer: (channelId) => this.admitPeer(found, channelId),
      reserveTransport: () => this.reserveTransport(found),
      release: () => {
        if (!found.members.delete(member) || found.members.size) return;
        setTimeout(() => {
          if (!found.members.size && this.users.get(userId) === found) this.users.delete(userId);
        }, FORGET_AFTER_MS).unref();
      },
    };
  }

  private admitPeer(usage: Usage, channelId: string): void {
    const joined = [...usage.members].flatMap((m) => (m.joinedChannel ? [m.joinedChannel] : []));
    const here = joined.filter((c) => c === channelId).length;
    const { maxPeersPerUserPerRoom, maxRoomsPerUser } = this.limits;
    if (here >= maxPeersPerUserPerRoom) {
      throw new SignalingError('limit_reached', `you are in this call ${here} times already (at most ${maxPeersPerUserPerRoom})`);
    }
    if (!here && new Set(joined).size >= maxRoomsPerUser) {
      throw new SignalingError('limit_reached', `you are in ${maxRoomsPerUser} calls already: leave one first`);
    }
  }

  private reserveTransport(usage: Usage): () => void {
    const { maxTransportsPerUser } = this.limits;
    if (usage.transports >= maxTransportsPerUser) {
      throw new SignalingError('limit_reached', `at most ${maxTransportsPerUser} media transports per user`);
    }
    if (this.transports >= this.portCapacity) {
      throw new SignalingError('unavailable', 'no media ports are free on this server: try again later');
    }
    usage.transports += 1;
    this.transports += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      usage.transports -= 1;
      this.transports -= 1;
    };
  }
}
