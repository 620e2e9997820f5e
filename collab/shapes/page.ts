import { TiptapTransformer } from '@hocuspocus/transformer';
import type { JSONContent } from '@tiptap/core';
import { MarkdownManager } from '@tiptap/markdown';
import StarterKit from '@tiptap/starter-kit';
import * as Y from 'yjs';
import { str } from './read.ts';

/**
 * DOC channels: `default` Y.XmlFragment as y-prosemirror writes it for Tiptap's schema, and `meta` Y.Map
 * (title, last_edited_by). The page is read and written as ProseMirror JSON, plain text or Markdown (Tiptap's
 * own converter, with the same StarterKit schema the transformer uses).
 */
export interface PageNode {
  type: string;
  attrs?: Record<string, unknown>;
  content?: PageNode[];
  text?: string;
  marks?: unknown[];
}

export interface Page {
  title: string;
  last_edited_by: string | null;
  content: PageNode;
  text: string;
  markdown: string;
}

const FIELD = 'default';
const markdown = new MarkdownManager({ extensions: [StarterKit] });

export const pageToMarkdown = (content: PageNode): string => markdown.serialize(content as JSONContent);
export const markdownToPage = (source: string): PageNode => markdown.parse(source) as PageNode;
const blockTypes = new Set(['paragraph', 'heading', 'blockquote', 'codeBlock', 'listItem', 'horizontalRule']);

/** Plain text of a page: text nodes joined, one line per block, a newline for each hard break. */
export function pageText(node: PageNode): string {
  if (node.type === 'text') return node.text ?? '';
  if (node.type === 'hardBreak') return '\n';
  const inner = (node.content ?? []).map(pageText);
  const joined = node.content?.some((c) => blockTypes.has(c.type) || c.type.endsWith('List'))
    ? inner.join('\n')
    : inner.join('');
  return joined;
}

export function readPage(doc: Y.Doc): Page {
  const meta = doc.getMap<unknown>('meta');
  const content = TiptapTransformer.fromYdoc(doc, FIELD) as PageNode;
  return {
    title: str(meta, 'title') ?? '',
    last_edited_by: str(meta, 'last_edited_by') ?? null,
    content,
    text: pageText(content),
    markdown: pageToMarkdown(content),
  };
}

/** ProseMirror JSON for plain text: a paragraph per line. */
export function textToPage(text: string): PageNode {
  return {
    type: 'doc',
    content: text.split(/\r?\n/).map((line) => ({
      type: 'paragraph',
      ...(line ? { content: [{ type: 'text', text: line }] } : {}),
    })),
  };
}

/** Encodes ProseMirror JSON as a Yjs update of the page field; throws on JSON that does not fit the schema. */
export function encodePage(content: PageNode): Uint8Array {
  const fresh = TiptapTransformer.toYdoc(content, FIELD);
  try {
    return Y.encodeStateAsUpdate(fresh);
  } finally {
    fresh.destroy();
  }
}

/**
 * Replaces the page's content in the live document with an `encodePage` result: the old content is deleted and
 * the new one inserted in one transaction, so clients see one change.
 */
export function replacePage(doc: Y.Doc, encoded: Uint8Array, editedBy: string): void {
  const fragment = doc.getXmlFragment(FIELD);
  doc.transact(() => {
    fragment.delete(0, fragment.length);
    Y.applyUpdate(doc, encoded);
    doc.getMap('meta').set('last_edited_by', editedBy);
  });
}

export function setPageTitle(doc: Y.Doc, title: string, editedBy: string): void {
  const meta = doc.getMap('meta');
  doc.transact(() => {
    meta.set('title', title);
    meta.set('last_edited_by', editedBy);
  });
}
