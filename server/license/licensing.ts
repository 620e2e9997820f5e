import type { RequestHandler } from 'express';
import type pg from 'pg';
import { inTransaction } from '../../core/db/database.ts';
import { ApiError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { publicKeyFromText, verifyLicense, type LicensePayload, type Verified } from './key.ts';
import { BUILT_IN_PUBLIC_KEY } from './public-key.ts';

/** Active people (not bots) an installation may have without a licence, or with one that has lapsed. */
export const FREE_SEATS = 50;

const DAY_MS = 86_400_000;

/**
 * `open_source`: no key, or a refused one · `licensed`: valid · `grace`: expired, still honoured for the grace
 * days · `expired`: past the grace, back to what open-source mode allows.
 */
export type LicenseState = 'open_source' | 'licensed' | 'grace' | 'expired';

/** What the admin console shows. */
export interface LicenseStatus {
  state: LicenseState;
  licensee: string | null;
  /** The licence's last valid day (UTC), YYYY-MM-DD. */
  expires: string | null;
  /** The last day of the grace period. */
  grace_ends: string | null;
  in_grace: boolean;
  /** Features granted now (none outside `licensed` and `grace`). */
  features: string[];
  seats: {
    /** Active people, not bots. */
    used: number;
    /** What registration and reactivation are held to now. */
    allowed: number;
    /** What the key names, even when it no longer counts. */
    licensed: number | null;
    free: number;
  };
  /** Why the configured key was refused. */
  errors: string[];
  /** About expiry: also in the log, at start and daily. */
  warnings: string[];
}

export interface LicensingOptions {
  /** `LICENSE_KEY`; undefined means open-source mode. */
  key: string | undefined;
  /** `LICENSE_PUBLIC_KEY`; undefined means the built-in key. */
  publicKey: string | undefined;
  graceDays: number;
  pool: pg.Pool;
  log: Logger;
  /** How often expiry warnings are logged again (a day; shorter in tests). */
  warnEveryMs?: number;
}

export interface Licensing {
  status(): Promise<LicenseStatus>;
  /** Whether a licence in force grants `feature`. */
  allows(feature: string): boolean;
  /** Middleware: 403 `license_required` unless a licence in force grants `feature`. */
  requireValidLicense(feature: string): RequestHandler;
  seatsAllowed(): number;
  /**
   * Inside `client`'s transaction: waits for the installation's seat lock (held until that transaction ends, so
   * concurrent registrations cannot both take the last seat), then refuses with 403 `license_required` when
   * every seat is taken. Call it before the write that adds an active person.
   */
  assertSeatFree(client: pg.PoolClient): Promise<void>;
  /**
   * The same, before activating `userId` in `client`'s transaction: a seat is needed only when the account is
   * inactive and a person's (a bot takes none); its row is locked, so two reactivations of it count once.
   */
  assertSeatToReactivate(client: pg.PoolClient, userId: string): Promise<void>;
  /** Creates an active person (e.g. a registration) in a transaction that first takes a seat. */
  withSeat<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T>;
  stop(): void;
}

export function licenseRequired(message: string, details?: unknown): ApiError {
  return new ApiError(403, 'license_required', message, details);
}

const dayAfter = (day: string, days: number) => new Date(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS);
const isoDay = (date: Date) => date.toISOString().slice(0, 10);

async function countSeats(db: Pick<pg.Pool, 'query'>): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM users WHERE is_active AND NOT is_bot');
  return rows[0]!.n;
}

function verifyConfiguredKey(key: string, publicKey: string): Verified {
  try {
    return verifyLicense(key, publicKeyFromText(publicKey));
  } catch (err) {
    return { ok: false, reason: `LICENSE_PUBLIC_KEY is not a usable Ed25519 key (${(err as Error).message})` };
  }
}

/** Verifies the key once; the state follows the clock, so a licence lapses into grace without a restart. */
export function startLicensing(options: LicensingOptions): Licensing {
  const { pool, log, graceDays } = options;
  const verified = options.key ? verifyConfiguredKey(options.key, options.publicKey ?? BUILT_IN_PUBLIC_KEY) : undefined;
  const payload: LicensePayload | undefined = verified?.ok ? verified.payload : undefined;
  const errors = verified && !verified.ok ? [`LICENSE_KEY refused: ${verified.reason}`] : [];
  const openSource = `open-source mode: up to ${FREE_SEATS} active people, no licensed features`;

  function state(): LicenseState {
    if (!payload) return 'open_source';
    const now = Date.now();
    if (now < dayAfter(payload.expires, 1).getTime()) return 'licensed';
    if (now < dayAfter(payload.expires, 1 + graceDays).getTime()) return 'grace';
    return 'expired';
  }
  const inForce = () => state() === 'licensed' || state() === 'grace';
  const graceEnds = (p: LicensePayload) => isoDay(dayAfter(p.expires, graceDays));

  function warnings(): string[] {
    if (!payload) return [];
    switch (state()) {
      case 'grace':
        return [
          `the licence of ${payload.licensee} expired on ${payload.expires}: its seats and features stay on until the ` +
            `end of ${graceEnds(payload)} (grace), then the server falls back to ${openSource}; renew it`,
        ];
      case 'expired':
        return [
          `the licence of ${payload.licensee} expired on ${payload.expires} and its grace ended on ` +
            `${graceEnds(payload)}: running in ${openSource}; renew it`,
        ];
      default:
        return [];
    }
  }

  function logWarnings(): void {
    const current = state();
    if (current === 'grace') for (const w of warnings()) log.warn({ license: current }, w);
    if (current === 'expired') for (const w of warnings()) log.error({ license: current }, w);
  }

  for (const error of errors) log.error({ license: 'refused' }, `${error}; running in ${openSource}`);
  if (!options.key) log.info({ license: 'open_source' }, `no LICENSE_KEY: ${openSource}`);
  if (payload && state() === 'licensed') {
    log.info(
      { license: 'licensed', licensee: payload.licensee, expires: payload.expires, seats: payload.seats, features: payload.features },
      `licensed to ${payload.licensee} until the end of ${payload.expires}`,
    );
  }
  logWarnings();
  const timer = payload ? setInterval(logWarnings, options.warnEveryMs ?? DAY_MS) : undefined;
  timer?.unref();

  const seatsAllowed = () => (payload && inForce() ? Math.max(payload.seats, FREE_SEATS) : FREE_SEATS);
  const allows = (feature: string) => Boolean(payload && inForce() && payload.features.includes(feature));

  async function assertSeatFree(client: pg.PoolClient): Promise<void> {
    await client.query(`SELECT pg_advisory_xact_lock(hashtextextended('license seats', 0))`);
    const used = await countSeats(client);
    const allowed = seatsAllowed();
    if (used < allowed) return;
    const why = payload && inForce() ? `the licence's ${allowed} seats` : `the ${allowed} seats of ${openSource}`;
    throw licenseRequired(
      `all ${why} are taken: an administrator must deactivate an account or install a licence with more seats`,
      { seats_used: used, seats_allowed: allowed },
    );
  }

  return {
    allows,
    seatsAllowed,
    assertSeatFree,
    requireValidLicense(feature) {
      return (_req, _res, next) => {
        if (allows(feature)) return next();
        const why = payload && state() === 'expired' ? ` (the licence expired on ${payload.expires})` : '';
        next(licenseRequired(`this needs a licence with the "${feature}" feature${why}`, { feature }));
      };
    },
    withSeat(work) {
      return inTransaction(pool, async (client) => {
        await assertSeatFree(client);
        return work(client);
      });
    },
    async assertSeatToReactivate(client, userId) {
      const { rows } = await client.query<{ is_active: boolean; is_bot: boolean }>(
        'SELECT is_active, is_bot FROM users WHERE id = $1 FOR UPDATE',
        [userId],
      );
      const user = rows[0];
      if (user && !user.is_active && !user.is_bot) await assertSeatFree(client);
    },
    async status() {
      const current = state();
      return {
        state: current,
        licensee: payload?.licensee ?? null,
        expires: payload?.expires ?? null,
        grace_ends: payload ? graceEnds(payload) : null,
        in_grace: current === 'grace',
        features: payload && inForce() ? [...payload.features] : [],
        seats: { used: await countSeats(pool), allowed: seatsAllowed(), licensed: payload?.seats ?? null, free: FREE_SEATS },
        errors: [...errors],
        warnings: warnings(),
      };
    },
    stop() {
      clearInterval(timer);
    },
  };
}
