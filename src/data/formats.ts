/**
 * The two file formats of the image data sets, read and written with every header checked:
 * IDX (MNIST, Fashion-MNIST, KMNIST; gzipped or not) and the CIFAR-10 binary batches.
 */
import { gunzipSync } from 'node:zlib';

/** A file that is not what it claims to be: the message names the file and what was wrong. */
export class DataFileError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'DataFileError';
  }
}

export interface IdxArray {
  /** Sizes of each dimension, e.g. [60000, 28, 28]. */
  readonly dims: number[];
  readonly data: Uint8Array;
}

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function gunzipIfNeeded(bytes: Uint8Array, file: string): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  try {
    return gunzipSync(bytes);
  } catch (e) {
    throw new DataFileError(file, `a damaged gzip stream (${(e as Error).message})`);
  }
}

/** Decodes an IDX file of unsigned bytes (type 0x08); gzip is undone first. */
export function parseIdx(raw: Uint8Array, file: string): IdxArray {
  const bytes = gunzipIfNeeded(raw, file);
  if (bytes.length < 4) throw new DataFileError(file, `too short for an IDX header (${bytes.length} bytes)`);
  if (bytes[0] !== 0 || bytes[1] !== 0) throw new DataFileError(file, `wrong magic number 0x${Buffer.from(bytes.subarray(0, 4)).toString('hex')}: an IDX file starts with two zero bytes`);
  if (bytes[2] !== 0x08) throw new DataFileError(file, `data type 0x${bytes[2].toString(16).padStart(2, '0')} is not unsigned bytes (0x08)`);
  const rank = bytes[3];
  if (rank < 1 || rank > 4) throw new DataFileError(file, `${rank} dimensions; image and label files have 1 to 4`);
  const headerLength = 4 + 4 * rank;
  if (bytes.length < headerLength) throw new DataFileError(file, `truncated header: ${bytes.length} bytes for ${rank} dimensions`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  const expected = dims.reduce((a, b) => a * b, 1);
  const actual = bytes.length - headerLength;
  if (actual !== expected) throw new DataFileError(file, `${actual < expected ? 'truncated' : 'too long'}: the header promises ${dims.join(' × ')} = ${expected} bytes of data, the file has ${actual}`);
  return { dims, data: bytes.subarray(headerLength) };
}

export function encodeIdx(dims: readonly number[], data: Uint8Array): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = 0x08;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(data)]);
}

export const CIFAR_RECORD = 1 + 3 * 32 * 32;

export interface CifarBatch {
  /** n × 3072 bytes: red, green, blue planes of 32 × 32 each. */
  readonly images: Uint8Array;
  readonly labels: Uint8Array;
}

/** Decodes a CIFAR-10 binary batch: records of one label byte (0–9) and 3072 pixel bytes. */
export function parseCifar(raw: Uint8Array, file: string): CifarBatch {
  const bytes = gunzipIfNeeded(raw, file);
  if (bytes.length === 0) throw new DataFileError(file, 'empty');
  if (bytes.length % CIFAR_RECORD !== 0) throw new DataFileError(file, `truncated: ${bytes.length} bytes is not a whole number of ${CIFAR_RECORD}-byte records`);
  const n = bytes.length / CIFAR_RECORD;
  const images = new Uint8Array(n * 3072);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const label = bytes[i * CIFAR_RECORD];
    if (label > 9) throw new DataFileError(file, `record ${i} has label ${label}; CIFAR-10 labels are 0 to 9`);
    labels[i] = label;
    images.set(bytes.subarray(i * CIFAR_RECORD + 1, (i + 1) * CIFAR_RECORD), i * 3072);
  }
  return { images, labels };
}

export function encodeCifar(batch: CifarBatch): Buffer {
  const n = batch.labels.length;
  const out = Buffer.alloc(n * CIFAR_RECORD);
  for (let i = 0; i < n; i++) {
    out[i * CIFAR_RECORD] = batch.labels[i];
    out.set(batch.images.subarray(i * 3072, (i + 1) * 3072), i * CIFAR_RECORD + 1);
  }
  return out;
}
