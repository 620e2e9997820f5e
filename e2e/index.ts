// The public face of e2e/: the browser-test helpers, and the reference call client's types (the client itself is
// browser code: bundle e2e/call-client.ts into a page, e.g. with bundleForBrowser).
export { bundleForBrowser } from './bundle.ts';
export { chromiumInstalled, chromiumPath, launchCallBrowser, type CallBrowser, type Participant } from './browser.ts';
export { startCoturn, turnserverInstalled, turnserverPath, type Coturn } from './coturn.ts';
export type { Call, CallError, CallEvents, CallOptions, Notification, RemoteStream, Source } from './call-client.ts';
export type { JoinOptions, PageApi, PageEvent, SelectedCandidates, StreamInfo, StreamSample } from './call-page.ts';
