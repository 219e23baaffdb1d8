/** Pure rules the Electron shell enforces; kept apart from electron so they can be tested anywhere. */

export const appScheme = 'isoflop';
export const appHost = 'app';
export const appOrigin = `${appScheme}://${appHost}`;
export const appEntryUrl = `${appOrigin}/index.html`;

/** Only frames showing our own renderer may call the API. */
export function isTrustedSenderUrl(url: string | undefined | null): boolean {
  if (!url) return false;
  try {
    const parsed = new URL(url);
    return parsed.protocol === `${appScheme}:` && parsed.host === appHost;
  } catch {
    return false;
  }
}

/** Hosts whose pages a link in the app may open in the user's browser: documentation, nothing else. */
export const externalHosts: ReadonlySet<string> = new Set([
  'github.com',
  'arxiv.org',
  'www.tensorflow.org',
  'js.tensorflow.org',
  'www.electronjs.org',
  'epoch.ai',
]);

/** Whether a link may leave the app for the user's browser: https, no credentials, an allowed host. */
export function isAllowedExternalUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return (
      parsed.protocol === 'https:' &&
      parsed.username === '' &&
      parsed.password === '' &&
      parsed.port === '' &&
      externalHosts.has(parsed.hostname)
    );
  } catch {
    return false;
  }
}

/** The report a link in the app names (`isoflop://app/data/reports/<name>`), or null for anything else. */
export function reportNameOfUrl(url: string): string | null {
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== `${appScheme}:` || parsed.host !== appHost) return null;
    const match = /^\/data\/reports\/([a-z0-9-]+\.(?:pdf|json))$/i.exec(parsed.pathname);
    return match ? (match[1] as string) : null;
  } catch {
    return null;
  }
}

/** The IPC channel that carries one API call. */
export function ipcChannelOf(channel: string): string {
  return `isoflop:${channel}`;
}

/** Command-line switches that give Chromium WebGPU on Linux (Vulkan) as well as elsewhere. */
export const webGpuSwitches: ReadonlyArray<readonly [string, string?]> = [
  ['enable-unsafe-webgpu'],
  ['enable-features', 'Vulkan'],
];
