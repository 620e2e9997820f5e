import { Duplex } from 'node:stream';
import type { PGlite } from '@electric-sql/pglite';

/**
 * Which queue a connection's statements wait in when they share one session: requests (auth, REST, readiness,
 * access checks) before document storage (appends, loads, compaction), so a busy document never makes a request
 * wait for more than the one storage statement already running.
 */
export type Lane = 'interactive' | 'storage';

// Frontend messages that end an exchange: the client then waits for the server's answer.
const SYNC = 0x53; // 'S'
const QUERY = 0x51; // 'Q'
const FLUSH = 0x48; // 'H'
const TERMINATE = 0x58; // 'X'

interface Exchange {
  client?: SessionStream;
  messages: Uint8Array[];
}

interface Session {
  enqueue(exchange: Exchange & { client: SessionStream }): void;
  /** A connection went away: its waiting statements are dropped, and a transaction it left open is rolled back. */
  forget(client: SessionStream): void;
}

const rollback: Exchange = { messages: [simpleQuery('ROLLBACK')] };

function simpleQuery(sql: string): Uint8Array {
  const text = Buffer.from(`${sql}\0`);
  const message = Buffer.alloc(5 + text.length);
  message[0] = QUERY;
  message.writeInt32BE(4 + text.length, 1);
  text.copy(message, 5);
  return message;
}

/**
 * PGlite is one PostgreSQL session that runs each statement synchronously in this process. `pg` reaches it through
 * these in-process streams (its `stream` option), several connections at once: each connection's exchanges
 * (its messages up to a Sync or a simple Query) run whole, one at a time; a connection inside a transaction keeps
 * the session until the transaction ends (so a transaction must never wait for another connection's statement);
 * otherwise the interactive lane goes first. Messages arrive whole, as pg wrote them, so a large value costs time in
 * proportion to its size (through pglite-socket, whose framing copies everything received so far for each 64 KiB a
 * socket delivers, writing a 16 MiB snapshot took 2.8 s and a 64 MiB one 45 s, holding the only connection; here
 * 0.2 s and 1 s).
 */
export function shareSession(db: PGlite) {
  const waiting: Record<Lane, Exchange[]> = { interactive: [], storage: [] };
  let owner: SessionStream | undefined;
  let running = false;

  function next(): Exchange | undefined {
    if (owner) {
      const queue = waiting[owner.lane];
      const i = queue.findIndex((e) => e.client === owner);
      return i === -1 ? undefined : queue.splice(i, 1)[0];
    }
    return waiting.interactive.shift() ?? waiting.storage.shift();
  }

  async function pump(): Promise<void> {
    if (running) return;
    running = true;
    try {
      for (;;) {
        // Before a storage statement, let I/O in: a request that arrived meanwhile goes first.
        if (!owner && !waiting.interactive.length) await new Promise((resolve) => setImmediate(resolve));
        const exchange = next();
        if (!exchange) return;
        const { client } = exchange;
        try {
          await db.runExclusive(async () => {
            for (const message of exchange.messages) {
              await db.execProtocolRawStream(message, { onRawData: (data) => client?.push(Buffer.from(data)) });
            }
          });
          owner = db.isInTransaction() && client && !client.destroyed ? client : undefined;
          if (db.isInTransaction() && !owner) waiting.interactive.unshift(rollback);
        } catch (err) {
          client?.destroy(err as Error);
        }
      }
    } finally {
      running = false;
    }
  }

  const session: Session = {
    enqueue(exchange) {
      waiting[exchange.client.lane].push(exchange);
      void pump();
    },
    forget(client) {
      for (const lane of ['interactive', 'storage'] as const) {
        waiting[lane] = waiting[lane].filter((e) => e.client !== client);
      }
      if (owner === client) {
        owner = undefined;
        waiting.interactive.unshift(rollback);
        void pump();
      }
    },
  };

  return {
    /** A `stream` option for `pg`: connections made with it run in `lane`. */
    stream: (lane: Lane) => () => new SessionStream(session, lane),
  };
}

/** What `pg` takes for a socket: it writes frontend messages and reads the backend's answers. */
class SessionStream extends Duplex {
  readonly lane: Lane;
  private readonly session: Session;
  private received: Buffer = Buffer.alloc(0);
  private exchange: Uint8Array[] = [];
  private started = false;

  constructor(session: Session, lane: Lane) {
    super();
    this.session = session;
    this.lane = lane;
  }

  // The socket methods pg calls.
  connect(): this {
    process.nextTick(() => this.emit('connect'));
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    // pg writes whole messages (or corked runs of them), so this hardly ever concatenates.
    this.received = this.received.length ? Buffer.concat([this.received, chunk]) : chunk;
    for (;;) {
      // The startup message has no type byte: its length comes first.
      const header = this.started ? 5 : 8;
      if (this.received.length < header) break;
      const length = this.started ? 1 + this.received.readInt32BE(1) : this.received.readInt32BE(0);
      if (this.received.length < length) break;
      const message = this.received.subarray(0, length);
      this.received = this.received.subarray(length);
      const type = this.started ? message[0] : undefined;
      const ends = !this.started || type === SYNC || type === QUERY || type === FLUSH;
      this.started = true;
      if (type === TERMINATE) continue;
      this.exchange.push(message);
      if (ends) {
        this.session.enqueue({ client: this, messages: this.exchange });
        this.exchange = [];
      }
    }
    done();
  }

  override _final(done: (err?: Error | null) => void): void {
    this.push(null);
    done();
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    this.session.forget(this);
    done(err);
  }
}
