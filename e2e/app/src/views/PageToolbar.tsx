// The page's formatting toolbar: only marks and nodes of the StarterKit schema the server's page rules accept
// (collab/rules/page.ts), each a real button that says whether it is on (aria-pressed), and links through a
// labelled field instead of a prompt. Links that would run code are refused here as the server would.
import { useEditorState, type Editor } from '@tiptap/react';
import { useState, type FormEvent } from 'react';

type Level = 1 | 2 | 3;

interface Tool {
  label: string;
  shortcut?: string;
  text: string;
  active: (editor: Editor) => boolean;
  run: (editor: Editor) => void;
}

const heading = (level: Level): Tool => ({
  label: `Heading ${level}`,
  shortcut: `Control+Alt+${level}`,
  text: `H${level}`,
  active: (e) => e.isActive('heading', { level }),
  run: (e) => e.chain().focus().toggleHeading({ level }).run(),
});

const tools: Tool[] = [
  { label: 'Bold', shortcut: 'Control+B', text: 'B', active: (e) => e.isActive('bold'), run: (e) => e.chain().focus().toggleBold().run() },
  { label: 'Italic', shortcut: 'Control+I', text: 'I', active: (e) => e.isActive('italic'), run: (e) => e.chain().focus().toggleItalic().run() },
  heading(1),
  heading(2),
  heading(3),
  { label: 'Bulleted list', text: '•', active: (e) => e.isActive('bulletList'), run: (e) => e.chain().focus().toggleBulletList().run() },
  { label: 'Numbered list', text: '1.', active: (e) => e.isActive('orderedList'), run: (e) => e.chain().focus().toggleOrderedList().run() },
  { label: 'Code', shortcut: 'Control+E', text: '</>', active: (e) => e.isActive('code'), run: (e) => e.chain().focus().toggleCode().run() },
  { label: 'Code block', text: '{ }', active: (e) => e.isActive('codeBlock'), run: (e) => e.chain().focus().toggleCodeBlock().run() },
  { label: 'Quote', text: '❝', active: (e) => e.isActive('blockquote'), run: (e) => e.chain().focus().toggleBlockquote().run() },
];

const UNSAFE_LINK = /^(javascript|vbscript|data|file):/i;

function LinkForm({ editor, onDone }: { editor: Editor; onDone: () => void }) {
  const [error, setError] = useState<string | null>(null);
  const apply = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const href = String(new FormData(event.currentTarget).get('href') ?? '').trim();
    if (UNSAFE_LINK.test(href.replace(/[\u0000-\u0020\u007f]/g, ''))) return setError('A link cannot run code: use an http(s) or mailto address.');
    const chain = editor.chain().focus().extendMarkRange('link');
    const done = href ? chain.setLink({ href }).run() : chain.unsetLink().run();
    if (!done) return setError('That address cannot be a link.');
    onDone();
  };
  return (
    <form className="page-link-form inline" aria-label="Link" onSubmit={apply}>
      <label className="field">
        <span>Link address (empty removes the link)</span>
        <input name="href" type="text" inputMode="url" autoFocus defaultValue={(editor.getAttributes('link').href as string | undefined) ?? ''} />
      </label>
      <button type="submit">Apply link</button>
      <button type="button" className="quiet" onClick={onDone}>Cancel</button>
      {error && <p className="error" role="alert">{error}</p>}
    </form>
  );
}

export function PageToolbar({ editor, disabled }: { editor: Editor; disabled: boolean }) {
  const [linking, setLinking] = useState(false);
  const active = useEditorState({ editor, selector: ({ editor: e }) => [...tools.map((t) => t.active(e)), e.isActive('link')] });
  return (
    <>
      <div role="toolbar" aria-label="Formatting" className="page-toolbar">
        {tools.map((tool, i) => (
          <button
            key={tool.label}
            type="button"
            className="quiet"
            aria-label={tool.label}
            title={tool.shortcut ? `${tool.label} (${tool.shortcut})` : tool.label}
            aria-keyshortcuts={tool.shortcut}
            aria-pressed={active[i]}
            disabled={disabled}
            // A click keeps the focus and selection in the page (typing goes on at once); keyboard users reach the
            // buttons with Tab, and each one returns the focus to the page.
            onMouseDown={(e) => e.preventDefault()}
            onClick={() => tool.run(editor)}
          >
            {tool.text}
          </button>
        ))}
        <button type="button" className="quiet" aria-label="Link" aria-pressed={active[tools.length]} aria-expanded={linking} disabled={disabled} onClick={() => setLinking(!linking)}>
          Link
        </button>
      </div>
      {linking && !disabled && <LinkForm editor={editor} onDone={() => setLinking(false)} />}
    </>
  );
}
