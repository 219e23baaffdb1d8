/**
 * The one error type, without the schemas (errors.ts): code that runs on its own threads (the CSV
 * readers) imports it from here and stays small, as zod would make each thread 20 MB bigger.
 */

/** What went wrong, in a form every side can switch on. */
export const errorCodes = [
  'BAD_REQUEST', // the payload did not match the channel's schema
  'UNKNOWN_CHANNEL', // no such API call
  'UNAUTHORIZED', // web mode: the request carries neither the session cookie nor the token
  'FORBIDDEN', // the request came from somewhere it may not
  'NOT_FOUND', // the named thing does not exist
  'CONFLICT', // the thing is in a state that forbids the call (running, locked, exists already)
  'TOO_LARGE', // a body or upload over its stated limit
  'INVALID_INPUT', // a file's content is not what it should be: the message names the file, line or column
  'DAMAGED', // a record in the data folder cannot be read: the message names it and what to do
  'STORE_UNAVAILABLE', // the data folder cannot be read or written
  'BACKEND_UNAVAILABLE', // no training backend could start here
  'INTERNAL', // a bug: the message says what to report
] as const;

export type ErrorCode = (typeof errorCodes)[number];

export interface ApiError {
  code: ErrorCode;
  message: string;
}

/** The one error type: a code a program can switch on and a message a person can act on. */
export class IsoflopError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'IsoflopError';
    this.code = code;
  }
  toJSON(): ApiError {
    return { code: this.code, message: this.message };
  }
}
