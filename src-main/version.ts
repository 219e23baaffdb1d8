/** Injected at build time from package.json (esbuild and vitest both define it). */
export const appVersion: string = __ISOFLOP_VERSION__;
