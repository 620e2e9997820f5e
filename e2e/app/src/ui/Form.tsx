// Small form parts shared by the views: a labelled field and an error line a screen reader announces.
import type { InputHTMLAttributes, ReactNode } from 'react';
import type { ApiError } from '../api.ts';

export function Field({ label, ...input }: InputHTMLAttributes<HTMLInputElement> & { label: string }) {
  return (
    <label className="field">
      <span>{label}</span>
      <input {...input} />
    </label>
  );
}

/** The server's message for a failed request, with each field problem it listed. */
export function ErrorLine({ error }: { error: ApiError | Error | null | undefined }) {
  if (!error) return null;
  const details = (error as ApiError).details;
  const problems = Array.isArray(details)
    ? details.map((d: { path?: unknown[]; message?: string }) => `${(d.path ?? []).join('.')}: ${d.message ?? ''}`)
    : [];
  return (
    <p className="error" role="alert">
      {error.message}
      {problems.length > 0 && ` (${problems.join('; ')})`}
    </p>
  );
}

export function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section aria-label={title}>
      <h2>{title}</h2>
      {children}
    </section>
  );
}
