import { spawn } from 'node:child_process';
import { dirname } from 'node:path';

/**
 * Opens the folder holding a file in the system's file manager, outside Electron (web mode runs on the
 * user's own computer): `open -R` on macOS selects the file, Explorer's /select does on Windows, and on
 * Linux `xdg-open` opens its folder. Resolves once the opener started; rejects with a message if it cannot.
 */
export function openFolderOf(path: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (process.platform === 'linux' && !env.DISPLAY && !env.WAYLAND_DISPLAY) {
    // A server without a display (ssh, a container) has no file manager to show.
    return Promise.reject(new Error('This computer has no display, so no file manager could be opened'));
  }
  const [command, args] =
    process.platform === 'darwin'
      ? ['open', ['-R', path]]
      : process.platform === 'win32'
        ? ['explorer.exe', [`/select,${path}`]]
        : ['xdg-open', [dirname(path)]];
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'ignore', detached: true });
    child.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new Error(
          error.code === 'ENOENT'
            ? `${command} is not installed, so no file manager could be opened`
            : `${command} failed: ${error.message}`,
        ),
      ),
    );
    child.once('spawn', () => {
      child.unref();
      resolve();
    });
  });
}
