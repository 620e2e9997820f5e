export { startServer, type RunningServer } from './server.ts';
export { createApp } from './app.ts';
export { readFileText, rotateFileKeys, type FileText } from './files/store.ts';
export { startAiFromConfig } from './ai/start.ts';
