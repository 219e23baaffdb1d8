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

/** The IPC channel that carries one API call. */
export function ipcChannelOf(channel: string): string {
  return `isoflop:${channel}`;
}

/** Command-line switches that give Chromium WebGPU on Linux (Vulkan) as well as elsewhere. */
export const webGpuSwitches: ReadonlyArray<readonly [string, string?]> = [
  ['enable-unsafe-webgpu'],
  ['enable-features', 'Vulkan'],
];
