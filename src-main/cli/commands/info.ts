import { createApi } from '../../api';
import { resolveDataDir } from '../../store/data-dir';
import { type Command, storeOption, stringOption } from '../command';

export const info: Command = {
  summary: 'Show the version, data folder and platform',
  usage: 'isoflop info [--store DIR] [--json]',
  options: { ...storeOption, json: { type: 'boolean' } },
  async run(values, _positionals, io) {
    const router = createApi(resolveDataDir({ flag: stringOption(values, 'store'), env: io.env }));
    const result = await router.invoke('system.info', {}, { transport: 'cli' });
    if (values.json) {
      io.out(JSON.stringify(result, null, 2));
      return 0;
    }
    const shell = result.platform.electron ? `Electron ${result.platform.electron}` : `Node ${result.platform.node}`;
    io.out(`IsoFLOP ${result.appVersion}`);
    io.out(`data folder  ${result.dataDir}`);
    io.out(`platform     ${result.platform.os} ${result.platform.arch}, ${shell}`);
    return 0;
  },
};
