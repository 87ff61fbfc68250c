// Which API key the dashboard uses: the one kept in this tab's session storage, else dev mode's key
// that the server puts in the page (as it does in GraphiQL); none means the sign-in form.
const storageKey = 'braid.apiKey';

export function storedKey(): string | null {
  const kept = sessionStorage.getItem(storageKey);
  if (kept) return kept;
  const dev = document.querySelector<HTMLMetaElement>('meta[name="braid-dev-key"]')?.content;
  if (dev) {
    sessionStorage.setItem(storageKey, dev);
    return dev;
  }
  return null;
}

export function keepKey(key: string): void {
  sessionStorage.setItem(storageKey, key);
}

export function forgetKey(): void {
  sessionStorage.removeItem(storageKey);
}
