import { Redis as RedisExtension } from '@hocuspocus/extension-redis';

type Keyed = { getKey(documentName: string): string };

/**
 * The Hocuspocus Redis extension, with a chat's live part shared under its generation's storage name: instances
 * that hold different generations (during a rollover) never exchange updates, which would mix an older
 * generation's content into the newer one. Every Redis key the extension uses (publish, subscribe, lock) comes
 * from its `getKey`, which its typings keep private, hence the replacement on the instance.
 */
export function generationalRedis(
  configuration: ConstructorParameters<typeof RedisExtension>[0],
  sharedName: (documentName: string) => string,
): RedisExtension {
  const extension = new RedisExtension(configuration);
  const keyed = extension as unknown as Keyed;
  const keyOf = keyed.getKey.bind(extension);
  keyed.getKey = (documentName) => keyOf(sharedName(documentName));
  return extension;
}
