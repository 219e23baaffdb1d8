import { type BackendName, backendOrder } from '../../src-shared/contract/backend';

/**
 * What the user chose that outlives a session, kept in the page's localStorage: the backend new runs
 * train on (null: the first available in training order).
 */

const backendKey = 'isoflop.trainingBackend';
/** Fault injection for tests: the worker destroys the WebGPU device once a run passes this step. */
const loseDeviceKey = 'isoflop.faults.loseWebGpuDeviceAtStep';

function read(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null; // storage blocked: defaults
  }
}

function storedBackend(): BackendName | null {
  const value = read(backendKey);
  return (backendOrder as readonly string[]).includes(value ?? '') ? (value as BackendName) : null;
}

export const settings = $state<{ trainingBackend: BackendName | null }>({ trainingBackend: storedBackend() });

export function setTrainingBackend(backend: BackendName | null): void {
  settings.trainingBackend = backend;
  try {
    if (backend) localStorage.setItem(backendKey, backend);
    else localStorage.removeItem(backendKey);
  } catch {
    // kept for this session only
  }
}

/** The backend a run trains on: the user's choice where it is available, else the probe's first choice. */
export function trainingBackendOf(report: {
  chosen: BackendName;
  probes: Array<{ backend: BackendName; available: boolean }>;
}): BackendName {
  const wanted = settings.trainingBackend;
  return wanted && report.probes.some((probe) => probe.backend === wanted && probe.available) ? wanted : report.chosen;
}

export function loseWebGpuDeviceAtStep(): number | null {
  const step = Number(read(loseDeviceKey) ?? Number.NaN);
  return Number.isInteger(step) && step >= 0 ? step : null;
}
