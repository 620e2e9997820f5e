// A group's or a channel's name and description, sent as one PATCH; filled anew whenever the saved values change.
import type { FormEvent } from 'react';
import { Field } from './Form.tsx';

export interface Naming {
  name: string;
  description: string;
}

export function RenameForm({ what, current, maxName, onSave }: {
  what: 'group' | 'channel';
  current: Naming;
  maxName: number;
  onSave: (naming: Naming) => void;
}) {
  const save = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    onSave({ name: String(form.get('name')), description: String(form.get('description')) });
  };
  const label = what === 'group' ? 'Group name' : 'Channel name';
  return (
    <form onSubmit={save} aria-label={`Rename ${what}`} className="inline" key={`${current.name}\n${current.description}`}>
      <Field label={label} name="name" required maxLength={maxName} defaultValue={current.name} />
      <Field label="Description" name="description" maxLength={1000} defaultValue={current.description} />
      <button type="submit">Save</button>
    </form>
  );
}
