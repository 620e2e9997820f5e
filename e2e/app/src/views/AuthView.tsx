import { useState, type FormEvent } from 'react';
import { login, register } from '../session.ts';
import { ErrorLine, Field } from '../ui/Form.tsx';
import { Link } from '../ui/Link.tsx';

export function AuthView({ mode }: { mode: 'login' | 'register' }) {
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const value = (name: string) => String(form.get(name) ?? '');
    setBusy(true);
    setError(null);
    try {
      if (mode === 'login') await login(value('username'), value('password'));
      else await register({ username: value('username'), email: value('email'), password: value('password'), ...(value('display_name') && { display_name: value('display_name') }) });
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="auth">
      <h1>Teamspace</h1>
      <form onSubmit={submit} aria-label={mode === 'login' ? 'Sign in' : 'Create an account'}>
        <h2>{mode === 'login' ? 'Sign in' : 'Create an account'}</h2>
        <Field label={mode === 'login' ? 'Username or email' : 'Username'} name="username" autoComplete="username" required />
        {mode === 'register' && <Field label="Email" name="email" type="email" autoComplete="email" required />}
        {mode === 'register' && <Field label="Display name (optional)" name="display_name" autoComplete="name" />}
        <Field label="Password" name="password" type="password" autoComplete={mode === 'login' ? 'current-password' : 'new-password'} minLength={mode === 'register' ? 10 : undefined} required />
        <ErrorLine error={error} />
        <button type="submit" disabled={busy}>{mode === 'login' ? 'Sign in' : 'Create account'}</button>
      </form>
      <p>
        {mode === 'login' ? <>New here? <Link href="/register">Create an account</Link></> : <>Have an account? <Link href="/login">Sign in</Link></>}
      </p>
    </main>
  );
}
