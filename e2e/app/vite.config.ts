// The web client's build: React, the service worker and manifest (vite-plugin-pwa), and a budget on the
// JavaScript a first visit loads (the entry chunk and what it imports statically; lazy views come later).
import { gzipSync } from 'node:zlib';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';

/** The shell's JavaScript budget on first load, gzipped (issue 11). */
const SHELL_BUDGET_BYTES = 200 * 1024;

/** Paths the server answers itself: the service worker must never answer them with the app. */
export const serverPaths = [/^\/api(\/|$)/, /^\/collab(\/|$)/, /^\/rtc(\/|$)/, /^\/admin(\/|$)/, /^\/metrics(\/|$)/, /^\/health(\/|$)/];

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} kB`;

function shellBudget(): Plugin {
  return {
    name: 'teamspace-shell-budget',
    apply: 'build',
    generateBundle(_options, bundle) {
      const chunks = new Map(Object.values(bundle).flatMap((c) => (c.type === 'chunk' ? [[c.fileName, c] as const] : [])));
      const gz = (name: string) => gzipSync(chunks.get(name)!.code, { level: 9 }).length;
      const shell = new Set<string>();
      const visit = (name: string) => {
        if (shell.has(name) || !chunks.has(name)) return;
        shell.add(name);
        chunks.get(name)!.imports.forEach(visit);
      };
      for (const c of chunks.values()) if (c.isEntry) visit(c.fileName);
      const shellBytes = [...shell].reduce((sum, name) => sum + gz(name), 0);
      const lines = [...chunks.keys()].sort().map((name) => `  ${shell.has(name) ? 'shell' : 'lazy '} ${kb(gz(name)).padStart(9)}  ${name}`);
      this.info(`JavaScript, gzipped:\n${lines.join('\n')}\nshell JavaScript on first load: ${kb(shellBytes)} gzipped (budget ${kb(SHELL_BUDGET_BYTES)})`);
      if (shellBytes > SHELL_BUDGET_BYTES) this.error(`the shell's JavaScript is ${kb(shellBytes)} gzipped, over its ${kb(SHELL_BUDGET_BYTES)} budget`);
    },
  };
}

export default defineConfig({
  root: import.meta.dirname,
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, target: 'es2022', chunkSizeWarningLimit: 1024 },
  plugins: [
    react(),
    VitePWA({
      registerType: 'autoUpdate',
      injectRegister: false,
      includeAssets: ['icon.svg', 'icon-192.png'],
      manifest: {
        name: 'Teamspace',
        short_name: 'Teamspace',
        description: 'Chat, tasks, pages, boards and calls for your team, working offline too',
        start_url: '/',
        scope: '/',
        display: 'standalone',
        background_color: '#ffffff',
        theme_color: '#2f5d8a',
        icons: [
          { src: '/icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: '/icon-512.png', sizes: '512x512', type: 'image/png' },
          { src: '/icon-maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
          { src: '/icon.svg', sizes: 'any', type: 'image/svg+xml' },
        ],
      },
      workbox: {
        // Every view, lazy ones included, so a reload offline finds whatever the user opens.
        globPatterns: ['**/*.{js,css,html,svg,png,webmanifest}'],
        navigateFallback: '/index.html',
        navigateFallbackDenylist: serverPaths,
        cleanupOutdatedCaches: true,
        // The page that installed the worker is offline-ready at once, without a reload.
        clientsClaim: true,
        maximumFileSizeToCacheInBytes: 4 * 1024 * 1024,
      },
    }),
    shellBudget(),
  ],
});
