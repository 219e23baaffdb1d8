import { z } from 'zod';

// zod probes `new Function` to speed up parsing; the CSP forbids eval, so tell it not to try.
z.config({ jitless: true });
