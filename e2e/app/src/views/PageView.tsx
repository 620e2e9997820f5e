// A DOC channel's page: Tiptap on the document's `default` fragment (the Collaboration extension, so every edit is
// a Yjs change the server's page rules judge), other people's carets, a formatting toolbar, the title
// (`meta.title`, which clients may set) and who edited last (`meta.last_edited_by`, which only the server writes).
// Loaded on demand (React.lazy in ChannelView): Tiptap stays out of the shell's first load.
import Collaboration from '@tiptap/extension-collaboration';
import { EditorContent, useEditor } from '@tiptap/react';
import StarterKit from '@tiptap/starter-kit';
import { useEffect, useState } from 'react';
import type * as Y from 'yjs';
import { useDocValue } from '../collab/use-channel-doc.ts';
import { nameOf, usePeople } from '../people.ts';
import type { ContentViewProps } from './content-view.ts';
import { CollaborationCarets } from './page-carets.ts';
import { PagePresence } from './PagePresence.tsx';
import { PageToolbar } from './PageToolbar.tsx';
import './PageView.css';

const MAX_TITLE = 200;

const editorAttributes = (editable: boolean) => ({
  'aria-label': 'Page content',
  role: 'textbox',
  'aria-multiline': 'true',
  'aria-readonly': String(!editable),
  class: 'page-content',
});

function readMeta(doc: Y.Doc): { title: string; lastEditedBy: string | null } {
  const meta = doc.getMap<unknown>('meta');
  const title = meta.get('title');
  const lastEditedBy = meta.get('last_edited_by');
  return { title: typeof title === 'string' ? title : '', lastEditedBy: typeof lastEditedBy === 'string' ? lastEditedBy : null };
}

/** The title field: the document's title, the person's draft while they type; stored on Enter or leaving it. */
function PageTitle({ doc, title, editable }: { doc: Y.Doc; title: string; editable: boolean }) {
  const [draft, setDraft] = useState<string | null>(null);
  const save = () => {
    const next = draft?.trim();
    if (next !== undefined && next !== title) doc.getMap('meta').set('title', next);
    setDraft(null);
  };
  return (
    <label className="field page-title">
      <span>Page title</span>
      <input
        value={draft ?? title}
        readOnly={!editable}
        maxLength={MAX_TITLE}
        placeholder={editable ? 'Untitled page' : ''}
        onChange={(e) => setDraft(e.target.value)}
        onBlur={save}
        onKeyDown={(e) => e.key === 'Enter' && e.currentTarget.blur()}
      />
    </label>
  );
}

export default function PageView({ open }: ContentViewProps) {
  const { doc, channelDoc } = open;
  const editable = channelDoc.editable;
  const awareness = channelDoc.provider.awareness;
  const { title, lastEditedBy } = useDocValue(doc, readMeta);
  const people = usePeople();
  const editor = useEditor(
    {
      extensions: [
        // Yjs keeps the history while collaborating (the Collaboration extension's own undo, of this person's
        // changes only); the trailing paragraph would write to the page merely because it was opened.
        StarterKit.configure({ undoRedo: false, trailingNode: false, link: { openOnClick: false, autolink: true, defaultProtocol: 'https' } }),
        Collaboration.configure({ document: doc, field: 'default' }),
        CollaborationCarets.configure({ awareness }),
      ],
      editable,
      editorProps: { attributes: editorAttributes(editable) },
    },
    [doc, awareness],
  );
  useEffect(() => {
    editor.setOptions({ editorProps: { attributes: editorAttributes(editable) } });
    editor.setEditable(editable);
  }, [editor, editable]);

  return (
    <section aria-label="Page" className="page">
      <PageTitle doc={doc} title={title} editable={editable} />
      <p className="muted" data-testid="last-edited">{lastEditedBy ? `Last edited by ${nameOf(people, lastEditedBy)}` : 'Not edited yet'}</p>
      <PagePresence awareness={awareness} />
      <PageToolbar editor={editor} disabled={!editable} />
      <EditorContent editor={editor} />
    </section>
  );
}
