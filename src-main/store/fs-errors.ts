/**
 * Why the data folder could not be written, in words, when an fs error is the store's state (a full disk,
 * no permission, a read-only mount) rather than a bug; null for any other error. The router, uploads and
 * imports answer STORE_UNAVAILABLE with it.
 */
export function storeFault(error: unknown): string | null {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return 'the disk is full';
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return 'this process may not write there';
  return null;
}
