// The sign-in form: an API key, checked against the API before it is kept (Enter submits).
import { useState, type FormEvent } from 'react';
import { ApiError, createApi } from './api';
import { graphql } from './gql';

const WhoAmI = graphql(`
  query DashboardWhoAmI {
    organization { id name }
  }
`);

export function SignIn({ onSignedIn }: { onSignedIn(key: string): void }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const key = String(new FormData(event.currentTarget).get('apiKey') ?? '').trim();
    if (!key) return setError('Enter an API key.');
    setBusy(true);
    try {
      await createApi(key).request(WhoAmI, {});
      onSignedIn(key);
    } catch (caught) {
      setError(caught instanceof ApiError && caught.code === 'UNAUTHENTICATED' ? 'That key is not valid.' : String(caught));
      setBusy(false);
    }
  }
  return (
    <form className="sign-in" onSubmit={submit}>
      <h1>Braid</h1>
      <label>
        API key
        <input name="apiKey" type="password" autoComplete="off" autoFocus placeholder="brd_…" />
      </label>
      <button type="submit" disabled={busy}>Sign in</button>
      {error && <p className="error" role="alert">{error}</p>}
    </form>
  );
}
