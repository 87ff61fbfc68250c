// The dashboard's entry: signs in (dev mode by itself, else the key form), then the runs list or a run.
import { StrictMode, useMemo, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { createApi } from './api';
import { forgetKey, keepKey, storedKey } from './auth';
import { useRoute } from './router';
import { RunPage } from './run-page';
import { RunsList } from './runs-list';
import { SignIn } from './sign-in';
import './styles.css';

function App() {
  const [key, setKey] = useState(storedKey);
  const api = useMemo(() => (key ? createApi(key) : null), [key]);
  const route = useRoute();
  if (!api) {
    return (
      <SignIn
        onSignedIn={(signedIn) => {
          keepKey(signedIn);
          setKey(signedIn);
        }}
      />
    );
  }
  const signOut = () => {
    api.close();
    forgetKey();
    setKey(null);
  };
  return (
    <div className="app">
      <header className="top">
        <a href="/ui/" className="brand">Braid</a>
        <a href="/graphql" className="link">GraphiQL</a>
        <button type="button" name="signOut" onClick={signOut}>Sign out</button>
      </header>
      {route.page === 'run' ? <RunPage api={api} runId={route.runId} key={route.runId} /> : <RunsList api={api} />}
    </div>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
