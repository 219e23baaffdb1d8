import { parentPort } from 'node:worker_threads';
import { encodeRecords } from './table-encode';
import type { LaneMessage } from './table-lanes';
import { readyMessage, scanPiece } from './table-pieces';

/**
 * A CSV reader thread (table-lanes.ts): reads each piece it is sent and sends back what it found, and
 * encodes scratch records into rows. Bytes go back and forth as transfers, not copies, and the bytes it
 * was sent go back too: the importer's collector, which runs far more often than this thread's, then
 * frees them (held here, they took an import's peak 60–80 MB higher).
 */
parentPort?.on('message', (message: LaneMessage) => {
  if (message.kind === 'encode') {
    const rows = encodeRecords(message.plan, message.bytes);
    parentPort?.postMessage(rows, [rows.buffer as ArrayBuffer, message.bytes.buffer as ArrayBuffer]);
    return;
  }
  const result = scanPiece(message.job);
  const read = message.job.bytes.buffer as ArrayBuffer;
  parentPort?.postMessage(
    result,
    result.ok ? [...result.scratch.map((bytes) => bytes.buffer as ArrayBuffer), read] : [read],
  );
});
parentPort?.postMessage(readyMessage);
