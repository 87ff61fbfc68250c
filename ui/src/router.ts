// Routing in the browser under /ui/: the runs list at /ui/, a run at /ui/runs/<runId>.
import { useEffect, useState } from 'react';

export type Route = { page: 'runs' } | { page: 'run'; runId: string };

export function routeOf(pathname: string): Route {
  const match = /^\/ui\/runs\/([^/]+)\/?$/.exec(pathname);
  return match ? { page: 'run', runId: decodeURIComponent(match[1]!) } : { page: 'runs' };
}

export const runPath = (runId: string) => `/ui/runs/${encodeURIComponent(runId)}`;

export function navigate(path: string): void {
  history.pushState(null, '', path);
  dispatchEvent(new PopStateEvent('popstate'));
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => routeOf(location.pathname));
  useEffect(() => {
    const update = () => setRoute(routeOf(location.pathname));
    addEventListener('popstate', update);
    return () => removeEventListener('popstate', update);
  }, []);
  return route;
}

/** A link that navigates in the page (a modified click still opens a new tab). */
export function linkClick(path: string) {
  return (event: { preventDefault(): void; metaKey: boolean; ctrlKey: boolean; shiftKey: boolean; button: number }) => {
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    navigate(path);
  };
}
