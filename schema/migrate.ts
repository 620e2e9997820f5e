import { fileURLToPath } from 'node:url';
import type { ClientBase } from 'pg';
import { runner } from 'node-pg-migrate';

const migrationsDir = fileURLToPath(new URL('./migrations', import.meta.url));

export interface MigrationLog {
  info(message: string): void;
}

/**
 * Applies every pending migration in `schema/migrations` inside the given connection. node-pg-migrate takes an
 * advisory lock, so several instances starting at once apply each migration exactly once; they wait for it
 * (its default, `fail`, stopped every instance but the first with "Another migration is already running"), then
 * find the migrations applied.
 */
export async function migrate(client: ClientBase, log: MigrationLog): Promise<string[]> {
  const applied = await runner({
    dbClient: client,
    dir: migrationsDir,
    direction: 'up',
    migrationsTable: 'schema_migrations',
    checkOrder: true,
    singleTransaction: true,
    advisoryLockMode: 'wait',
    log: () => {},
  });
  const names = applied.map((m) => m.name);
  log.info(names.length ? `applied migrations: ${names.join(', ')}` : 'database schema is up to date');
  return names;
}
