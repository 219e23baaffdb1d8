declare const __ISOFLOP_VERSION__: string;
