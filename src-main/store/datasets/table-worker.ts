import { parentPort } from 'node:worker_threads';
import { type PieceJob, readyMessage, scanPiece } from './table-pieces';

/** A CSV reader thread (table-lanes.ts): reads each piece it is sent and sends back what it found. */
parentPort?.on('message', (job: PieceJob) => {
  const result = scanPiece(job);
  parentPort?.postMessage(
    result,
    result.ok ? result.scratch.map((bytes) => bytes.buffer as ArrayBuffer) : [result.bytes.buffer as ArrayBuffer],
  );
});
parentPort?.postMessage(readyMessage);
