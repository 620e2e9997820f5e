// Editing traces from ../shared/traces (Joseph Gentle's editing-traces, CC BY 4.0), for tests and benchmarks.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type * as Y from 'yjs';

export interface Trace {
  endContent: string;
  txns: { patches: [number, number, string][] }[];
}

export function loadTrace(name: string): Trace {
  return JSON.parse(gunzipSync(readFileSync(new URL(`../../../shared/traces/${name}`, import.meta.url))).toString());
}

/** Applies the trace's transactions to `text`, one Yjs transaction each, yielding now and then like a typist. */
export async function replay(trace: Trace, text: Y.Text, chunk = 5000): Promise<void> {
  for (let i = 0; i < trace.txns.length; i += chunk) {
    for (const txn of trace.txns.slice(i, i + chunk)) {
      text.doc!.transact(() => {
        for (const [pos, del, ins] of txn.patches) {
          if (del) text.delete(pos, del);
          if (ins) text.insert(pos, ins);
        }
      });
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
}
