import { createApp } from '../../api';
import { startServer } from '../../server/server';
import { resolveDataDir } from '../../store/data-dir';
import { type Command, intOption, storeOption, stringOption } from '../command';

export const serve: Command = {
  summary: 'Serve the app in your browser (web mode) on 127.0.0.1',
  usage: 'isoflop serve [--port N] [--store DIR]',
  options: { port: { type: 'string', short: 'p' }, ...storeOption },
  async run(values, _positionals, io) {
    const port = intOption(values, 'port', 0, 65535) ?? 4173;
    const app = createApp(resolveDataDir({ flag: stringOption(values, 'store'), env: io.env }), { prepareDemos: true });
    const server = await startServer({ app, rendererDir: io.rendererDir, port });
    io.out(`IsoFLOP is serving on ${server.url}`);
    io.out('Open it in a Chromium-based browser for WebGPU. Press Ctrl+C to stop.');
    await io.untilStopped();
    await server.close();
    return 0;
  },
};
