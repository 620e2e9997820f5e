import { build } from 'esbuild';

/** Bundles a browser entry file (TypeScript, with its npm imports) into one classic script for a `<script>` tag. */
export async function bundleForBrowser(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'chrome120',
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}
