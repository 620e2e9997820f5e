import { getSchema } from '@tiptap/core';
import type { Schema } from '@tiptap/pm/model';
import StarterKit from '@tiptap/starter-kit';
import * as Y from 'yjs';
import { PageTitle } from '../../schema/index.ts';
import { valueOf } from './changes.ts';
import { refuse, type ChannelRules, type Refusal, type RuleInput } from './rule.ts';

/** The schema pages are edited with (the same StarterKit the server reads and writes pages with). */
const schema: Schema = getSchema([StarterKit]);
const MAX_ATTRIBUTE_LENGTH = 2048;
/** Schemes a link may not use: they run code when clicked. */
const UNSAFE_LINK = /^(javascript|vbscript|data|file):/i;

const invalid = (reason: string) => refuse('page.schema', reason);

/** An attribute value the schema could hold: a short primitive, and for links a URL that runs nothing. */
function attributeValue(name: string, value: unknown): Refusal | undefined {
  if (value === null || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) return undefined;
  if (typeof value !== 'string' || value.length > MAX_ATTRIBUTE_LENGTH) return invalid(`attribute ${name} is not a short value`);
  // Browsers ignore control characters and spaces inside a scheme, so they are ignored here too.
  if (name === 'href' && UNSAFE_LINK.test(value.replace(/[\u0000-\u0020\u007f]/g, ''))) {
    return invalid('a link must not run code');
  }
  return undefined;
}

function elementAttribute(nodeName: string, name: string, value: unknown): Refusal | undefined {
  const type = schema.nodes[nodeName];
  if (!type || !Object.hasOwn(type.spec.attrs ?? {}, name)) return invalid(`${nodeName} has no attribute ${name.slice(0, 40)}`);
  return attributeValue(name, value);
}

/**
 * A formatting attribute of text, as y-prosemirror writes marks: the mark's name (or name--hash) → its attrs,
 * allowed in the node that holds the text.
 */
function mark(key: string, value: unknown, nodeName: string): Refusal | undefined {
  const type = schema.marks[key.split('--')[0]!];
  if (!type) return invalid(`unknown mark ${key.slice(0, 40)}`);
  if (value === null) return undefined;
  if (!schema.nodes[nodeName]?.allowsMarkType(type)) return invalid(`${nodeName} text cannot be ${type.name}`);
  if (typeof value !== 'object' || Array.isArray(value)) return invalid(`mark ${type.name} has malformed attributes`);
  for (const [name, attr] of Object.entries(value)) {
    if (!Object.hasOwn(type.spec.attrs ?? {}, name)) return invalid(`mark ${type.name} has no attribute ${name.slice(0, 40)}`);
    const refusal = attributeValue(name, attr);
    if (refusal) return refusal;
  }
  return undefined;
}

/** One piece of content inserted into an element, a fragment or text, with everything nested in it. */
function content(item: Y.Item, parent: Y.AbstractType<any>, depth = 0): Refusal | undefined {
  const inner = item.content;
  if (parent instanceof Y.XmlText) {
    if (inner instanceof Y.ContentString) return undefined;
    if (inner instanceof Y.ContentFormat) return mark(inner.key, inner.value, nodeNameOf(parent._item?.parent));
    return invalid('text holds only characters and marks');
  }
  if (!(inner instanceof Y.ContentType)) return invalid('a page holds only nodes of its schema');
  return node(inner.type, depth + 1);
}

/** The schema node a type stands for ('doc' for the page's fragment). */
function nodeNameOf(type: unknown): string {
  return type instanceof Y.XmlElement ? type.nodeName : 'doc';
}

/** How deep nodes may nest: more than any page needs, well within the stack of the checks that walk them. */
const MAX_DEPTH = 64;

function node(type: Y.AbstractType<any>, depth = 0): Refusal | undefined {
  if (depth > MAX_DEPTH) return invalid('nodes nest too deep');
  if (type instanceof Y.XmlText) {
    for (let item = type._start; item; item = item.right) {
      const refusal = item.deleted ? undefined : content(item, type, depth);
      if (refusal) return refusal;
    }
    return type._map.size ? invalid('text has no attributes') : undefined;
  }
  if (!(type instanceof Y.XmlElement)) return invalid('a page holds only nodes of its schema');
  const name = type.nodeName;
  if (!schema.nodes[name] || name === 'doc' || name === 'text') return invalid(`${name.slice(0, 40)} is not a node of the page's schema`);
  for (const [key, value] of Object.entries(type.getAttributes())) {
    const refusal = elementAttribute(name, key, value);
    if (refusal) return refusal;
  }
  for (let item = type._start; item; item = item.right) {
    const refusal = item.deleted ? undefined : content(item, type);
    if (refusal) return refusal;
  }
  return undefined;
}

/** ProseMirror JSON of a node, as y-prosemirror reads it. */
function toJson(type: Y.XmlElement | Y.XmlText): unknown[] {
  if (type instanceof Y.XmlText) {
    return (type.toDelta() as { insert: unknown; attributes?: Record<string, unknown> }[]).map((op) => ({
      type: 'text',
      text: op.insert,
      marks: Object.entries(op.attributes ?? {}).map(([key, attrs]) => ({ type: key.split('--')[0], attrs })),
    }));
  }
  const children = type.toArray().flatMap((child) => toJson(child as Y.XmlElement | Y.XmlText));
  return [{ type: type.nodeName, attrs: type.getAttributes(), content: children }];
}

/** Whether new nested content fits the schema's content rules (which nodes go where, which marks where). */
function subtreeFits(type: Y.AbstractType<any>): Refusal | undefined {
  if (!(type instanceof Y.XmlElement)) return undefined;
  try {
    schema.nodeFromJSON(toJson(type)[0]).check();
    return undefined;
  } catch (err) {
    return invalid(`the page's structure: ${(err as Error).message.slice(0, 120)}`);
  }
}

/**
 * Whether a node's children, by type, are what its content expression allows. Shallow (the children's own
 * content was checked when they were written), so it costs the number of children, not the page's size.
 */
function childrenFit(parent: Y.AbstractType<any>, counts: (item: Y.Item) => boolean): Refusal | undefined {
  const type = schema.nodes[nodeNameOf(parent)]!;
  let match: ReturnType<typeof type.contentMatch.matchType> = type.contentMatch;
  let previousText = false;
  for (let item = parent._start; item && match; item = item.right) {
    if (item.deleted || !(item.content instanceof Y.ContentType) || !counts(item)) continue;
    const child = item.content.type;
    const isText = child instanceof Y.XmlText;
    // Adjacent text nodes are one run of text to ProseMirror.
    if (isText && previousText) continue;
    previousText = isText;
    const childType = isText ? schema.nodes.text : schema.nodes[(child as Y.XmlElement).nodeName];
    match = childType ? match.matchType(childType) : null;
  }
  return match?.validEnd ? undefined : invalid(`the page's structure: ${nodeNameOf(parent)} cannot hold that`);
}

/** New nodes accepted so far in the transaction being judged: siblings not judged yet do not count. */
const acceptedNodes = new WeakMap<Y.Transaction, WeakSet<Y.Item>>();

function checkContent({ change, place, view }: RuleInput): Refusal | undefined {
  if (change.kind === 'delete') return undefined;
  if (change.kind === 'insert') {
    const refusal = content(change.item, change.parent);
    if (refusal || change.parent instanceof Y.XmlText) return refusal;
    let accepted = acceptedNodes.get(view.tr);
    if (!accepted) acceptedNodes.set(view.tr, (accepted = new WeakSet()));
    const counts = (item: Y.Item) => item === change.item || view.existedBefore(item) || accepted.has(item);
    const misfit = subtreeFits(valueOf(change.item) as Y.AbstractType<any>) ?? childrenFit(change.parent, counts);
    if (!misfit) accepted.add(change.item);
    return misfit;
  }
  if (!(change.map instanceof Y.XmlElement) || place.path.length === 0) return invalid('a page holds only nodes');
  return change.after ? elementAttribute(change.map.nodeName, change.key, valueOf(change.after)) : undefined;
}

/**
 * DOC channels: `default` holds only what the Tiptap schema allows (node and mark names, their attributes, links
 * that run no code, and which nodes go where); `meta.title` is a short string; `meta.last_edited_by` is the
 * server's to write: it names the writer of each accepted change.
 */
export const pageRules: ChannelRules = {
  roots: { default: Y.XmlFragment, meta: Y.Map },
  check(input) {
    const { change, place } = input;
    if (place.root === 'default') return checkContent(input);
    if (place.root !== 'meta' || change.kind !== 'set' || place.path.length) return refuse('shape', 'a page holds only its content and title');
    if (change.key === 'last_edited_by') return refuse('page.meta', 'last_edited_by is written by the server');
    if (change.key !== 'title') return refuse('page.meta', `a page has no ${change.key.slice(0, 40)}`);
    if (!change.after) return undefined;
    return PageTitle.safeParse(valueOf(change.after)).success ? undefined : refuse('page.meta', 'a title is a string of at most 200 characters');
  },

  stamp(accepted) {
    const writer = accepted[0]?.writer;
    if (!writer) return;
    const meta = accepted[0]!.doc.getMap<unknown>('meta');
    if (meta.get('last_edited_by') !== writer.userId) meta.set('last_edited_by', writer.userId);
  },
};
