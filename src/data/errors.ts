// The two kinds of bad data. A malformed container (a truncated .rec, a broken IDX header, a pickle
// we cannot read) is fatal: the error names the file and the byte offset. One undecodable image inside
// a healthy container is not: the loader skips it and counts it for the run summary.

/** A file whose structure is broken: names the file, the byte offset and what was found there. */
export class DataFormatError extends Error {
  override name = 'DataFormatError';
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly detail: string,
  ) {
    super(`${file}: at byte ${offset}: ${detail}`);
  }
}

/** One image that cannot be decoded; `where` says which (e.g. 'train.rec record 17 at byte 40960'). */
export class CorruptImageError extends Error {
  override name = 'CorruptImageError';
  constructor(
    readonly where: string,
    readonly reason: string,
  ) {
    super(`corrupt image (${where}): ${reason}`);
  }
}

/** An error as it crosses from a worker thread (structured clone drops the class). */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  file?: string;
  offset?: number;
  detail?: string;
  where?: string;
  reason?: string;
}

export function serializeError(e: unknown): SerializedError {
  if (!(e instanceof Error)) return { name: 'Error', message: String(e) };
  const x = e as Error & Partial<SerializedError>; // only plain fields: anything else may not clone
  return { name: e.name, message: e.message, stack: e.stack, file: x.file, offset: x.offset, detail: x.detail, where: x.where, reason: x.reason };
}

/** Rebuilds the error thrown in a worker, keeping its class for DataFormatError and CorruptImageError. */
export function deserializeError(s: SerializedError): Error {
  let e: Error;
  if (s.name === 'DataFormatError') e = new DataFormatError(s.file!, s.offset!, s.detail!);
  else if (s.name === 'CorruptImageError') e = new CorruptImageError(s.where!, s.reason!);
  else {
    e = new Error(s.message);
    e.name = s.name;
  }
  e.stack = `${s.stack ?? e.stack}\n    (in a data loader worker thread)`;
  return e;
}
