import { type BackendReport, IsoflopError, type SystemInfo } from '../../src-shared/contract';
import { startEngine } from '../worker/engine';
import { connect } from './transport';

/** State that every view shares: where we are, what the main side said, what the worker found. */

export const routes = [
  { id: 'start', label: 'Start' },
  { id: 'datasets', label: 'Datasets' },
  { id: 'sweeps', label: 'Sweeps' },
  { id: 'runs', label: 'Runs' },
  { id: 'studies', label: 'Studies' },
  { id: 'frontier', label: 'Frontier' },
  { id: 'reports', label: 'Reports' },
  { id: 'system', label: 'This computer' },
] as const;
export type RouteId = (typeof routes)[number]['id'];

function routeFromHash(): RouteId {
  const id = location.hash.replace(/^#\/?/, '');
  return routes.find((route) => route.id === id)?.id ?? 'start';
}

type Loadable<T> = { state: 'loading' } | { state: 'ready'; value: T } | { state: 'failed'; message: string };

export const app = $state<{
  route: RouteId;
  info: Loadable<SystemInfo>;
  backends: Loadable<BackendReport>;
  /** web mode: the server refused this page's calls for want of its token (opened without ?token=) */
  unauthorized: string | null;
}>({
  route: routeFromHash(),
  info: { state: 'loading' },
  backends: { state: 'loading' },
  unauthorized: null,
});

export const client = connect();
/** The training worker: one for the app's lifetime. */
export const engine = startEngine();

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function navigate(route: RouteId): void {
  if (location.hash !== `#/${route}`) location.hash = `#/${route}`;
  app.route = route;
}

export function start(): void {
  window.addEventListener('hashchange', () => {
    app.route = routeFromHash();
  });
  client.call('system.info', {}).then(
    (value) => {
      app.info = { state: 'ready', value };
    },
    (error: unknown) => {
      app.info = { state: 'failed', message: messageOf(error) };
      if (error instanceof IsoflopError && error.code === 'UNAUTHORIZED') app.unauthorized = error.message;
    },
  );
  engine.probeBackends().then(
    (value) => {
      app.backends = { state: 'ready', value };
    },
    (error: unknown) => {
      app.backends = { state: 'failed', message: messageOf(error) };
    },
  );
}
