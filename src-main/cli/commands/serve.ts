import { createApp } from '../../api';
import { defaultMaxUploadBytes, minTokenLength, startServer } from '../../server/server';
import { resolveDataDir } from '../../store/data-dir';
import { type Command, intOption, numberOption, storeOption, stringOption, UsageError } from '../command';

export const serve: Command = {
  summary: 'Serve the app in your browser (web mode) on 127.0.0.1, behind a token made for this start',
  usage: [
    'isoflop serve [--port N] [--store DIR] [--max-upload-gb G] [--no-token]',
    '',
    'Open the printed address: it carries a token (?token=...) that the page trades for a cookie. Scripts send',
    '"Authorization: Bearer <token>". ISOFLOP_TOKEN sets the token instead of a random one (at least 16',
    'characters). --no-token lets every process and user on this computer call the API: only on a machine',
    'that is yours alone.',
  ].join('\n'),
  options: {
    port: { type: 'string', short: 'p' },
    'max-upload-gb': { type: 'string' },
    'no-token': { type: 'boolean' },
    ...storeOption,
  },
  async run(values, _positionals, io) {
    const port = intOption(values, 'port', 0, 65535) ?? 4173;
    const maxUploadGb = numberOption(values, 'max-upload-gb', 0.001, 1024);
    const fromEnv = io.env.ISOFLOP_TOKEN;
    if (fromEnv !== undefined && (fromEnv.length < minTokenLength || !/^[\w.~-]+$/.test(fromEnv))) {
      throw new UsageError(
        `ISOFLOP_TOKEN must be at least ${minTokenLength} letters, digits, dots, dashes or underscores`,
      );
    }
    const token = values['no-token'] ? null : fromEnv;
    const app = createApp(resolveDataDir({ flag: stringOption(values, 'store'), env: io.env }), { prepareDemos: true });
    const server = await startServer({
      app,
      rendererDir: io.rendererDir,
      port,
      token,
      maxUploadBytes: maxUploadGb === undefined ? defaultMaxUploadBytes : Math.round(maxUploadGb * 1024 ** 3),
    });
    if (server.token === null) {
      io.err('WARNING: --no-token: any program or user on this computer can read, change and delete your');
      io.err('WARNING: datasets and runs through this server. Use it only on a machine that is yours alone.');
    }
    io.out(`IsoFLOP is serving on ${server.url}`);
    io.out('Open that address in a Chromium-based browser for WebGPU. Press Ctrl+C to stop.');
    await io.untilStopped();
    await server.close();
    return 0;
  },
};
