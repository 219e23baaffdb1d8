import { describe, expect, it } from 'vitest';
import { appEntryUrl, ipcChannelOf, isTrustedSenderUrl, webGpuSwitches } from './security';

describe('Electron shell rules', () => {
  it('trusts only frames that show the app from its own protocol', () => {
    expect(isTrustedSenderUrl(appEntryUrl)).toBe(true);
    expect(isTrustedSenderUrl('isoflop://app/index.html#/runs')).toBe(true);
    for (const url of [
      'file:///opt/isoflop/index.html',
      'https://app/index.html',
      'isoflop://evil/index.html',
      'http://127.0.0.1:4173/',
      'about:blank',
      '',
      null,
      undefined,
      'not a url',
    ]) {
      expect(isTrustedSenderUrl(url)).toBe(false);
    }
  });

  it('namespaces IPC channels', () => {
    expect(ipcChannelOf('system.info')).toBe('isoflop:system.info');
  });

  it('turns on WebGPU, with Vulkan for Linux', () => {
    const switches = Object.fromEntries(webGpuSwitches.map(([name, value]) => [name, value ?? true]));
    expect(switches['enable-unsafe-webgpu']).toBe(true);
    expect(String(switches['enable-features'])).toContain('Vulkan');
  });
});
