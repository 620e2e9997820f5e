export { createCollab, type Collab, type CollabOptions } from './server.ts';
export { createKeyring, keyIdOf, keyringFromBase64, type Keyring } from './storage/keyring.ts';
export { createDocumentStore, type DocumentStore } from './storage/document-store.ts';
export { channelOf, parseSegmentName, segmentName } from './history/names.ts';
export { pageOfHistory } from './history/pages.ts';
export { storageNameFor } from './history/live-parts.ts';
export type { CollabContext } from './extensions/access.ts';
export type { CollabLimits } from './extensions/limits.ts';
export * from './shapes/index.ts';
