import { contextBridge, ipcRenderer } from 'electron';
import { channels } from '../../src-shared/contract/api';
import { ipcChannelOf } from './security';

// One named function per API call in the contract, never raw ipcRenderer.
const calls = Object.fromEntries(
  channels.map((channel) => [
    channel,
    (input: unknown) => ipcRenderer.invoke(ipcChannelOf(channel), input) as Promise<unknown>,
  ]),
);

contextBridge.exposeInMainWorld('isoflop', Object.freeze({ api: Object.freeze(calls) }));
