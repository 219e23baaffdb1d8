import { contextBridge, ipcRenderer, webUtils } from 'electron';
import { channels } from '../../src-shared/contract/api';
import { ipcChannelOf } from './security';

// One named function per API call in the contract, never raw ipcRenderer.
const calls = Object.fromEntries(
  channels.map((channel) => [
    channel,
    (input: unknown) => ipcRenderer.invoke(ipcChannelOf(channel), input) as Promise<unknown>,
  ]),
);

contextBridge.exposeInMainWorld(
  'isoflop',
  Object.freeze({
    api: Object.freeze(calls),
    // A dropped or picked file's path, so the main process can read it in place instead of copying it.
    pathForFile: (file: File) => webUtils.getPathForFile(file),
  }),
);
