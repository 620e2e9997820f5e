// The signed-in person's own account: a new password (every other device is signed out, this one stays), and
// deleting the account (what they wrote stays, shown as by a deleted user).
import { useState, type FormEvent } from 'react';
import { api } from '../api.ts';
import { changePassword, currentUser, forgetSession } from '../session.ts';
import { useAttempt } from '../ui/attempt.ts';
import { ErrorLine, Field } from '../ui/Form.tsx';

export default function AccountView() {
  const me = currentUser();
  const password = useAttempt();
  const removal = useAttempt();
  const [changed, setChanged] = useState(false);
  const submitPassword = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const target = event.currentTarget;
    const form = new FormData(target);
    setChanged(false);
    void password.attempt(async () => {
      if (form.get('new_password') !== form.get('repeat')) throw new Error('The new password and its repetition differ.');
      await changePassword(String(form.get('current_password')), String(form.get('new_password')));
    }, () => {
      target.reset();
      setChanged(true);
    });
  };
  const deleteAccount = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    void removal.attempt(async () => {
      if (form.get('confirm') !== me?.username) throw new Error(`Type your username, ${me?.username}, to confirm.`);
      await api('DELETE', '/api/auth/me', { password: form.get('password') });
    }, () => void forgetSession());
  };
  if (!me) return null;
  return (
    <>
      <h1>Your account</h1>
      <p>{me.display_name ?? me.username} <span className="muted">@{me.username} · {me.email}</span></p>
      <section aria-label="Change password">
        <h2>Change password</h2>
        <ErrorLine error={password.error} />
        <form onSubmit={submitPassword} aria-label="Change password" className="inline">
          <Field label="Current password" name="current_password" type="password" required autoComplete="current-password" />
          <Field label="New password" name="new_password" type="password" required minLength={10} maxLength={256} autoComplete="new-password" />
          <Field label="Repeat the new password" name="repeat" type="password" required autoComplete="new-password" />
          <button type="submit">Change password</button>
          <p role="status" className="muted">{changed && 'Password changed. Every other device has been signed out.'}</p>
        </form>
      </section>
      <section aria-label="Delete account">
        <h2>Delete account</h2>
        <p className="muted">
          You leave every group and can never sign in again; your username and email become free. What you wrote stays,
          shown as by a deleted user. If you are the only owner of a group, make someone else owner or delete the group first.
        </p>
        <ErrorLine error={removal.error} />
        <form onSubmit={deleteAccount} aria-label="Delete account" className="inline danger">
          <Field label="Password" name="password" type="password" required autoComplete="current-password" />
          <Field label={`Type your username, ${me.username}, to confirm`} name="confirm" required autoComplete="off" />
          <button type="submit">Delete my account</button>
        </form>
      </section>
    </>
  );
}
