import { Gunzip } from 'fflate';
import { ValueError } from '../errors.js';
import { checkOptions } from '../options.js';
import { crc32, toBytes } from './npz.js';

/**
 * Reading IDX files, the format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/),
 * plain or gzip-compressed.
 *
 * Layout (every number big-endian):
 *   bytes 0-1  zero
 *   byte  2    element type: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64
 *   byte  3    number of dimensions d (1-255)
 *   d x uint32 the sizes, outermost first
 *   the elements in C order, nothing after them
 *
 * Every size the file declares is checked against the bytes really there (for gzip, against the
 * most a deflate stream of that length can expand to) before anything is allocated from it.
 */

/** The element types of IDX, by numpy's names. */
export type IdxDtype = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

/** An IDX array: the elements in C order, in the typed array of their type, native byte order. */
export interface IdxArray {
  dtype: IdxDtype;
  shape: number[];
  data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

/** Options of {@link loadIdx}. */
export interface LoadIdxOptions {
  /** What the messages call the file, e.g. its path (default `'bytes'`). */
  name?: string;
}

const FN = 'loadIdx';
const TYPES: Record<number, { dtype: IdxDtype; size: number }> = {
  0x08: { dtype: 'uint8', size: 1 },
  0x09: { dtype: 'int8', size: 1 },
  0x0b: { dtype: 'int16', size: 2 },
  0x0c: { dtype: 'int32', size: 4 },
  0x0d: { dtype: 'float32', size: 4 },
  0x0e: { dtype: 'float64', size: 8 },
};
// DEFLATE expands at most 1032:1 (a 258-byte match per 2 bits); a larger declared size is a lie.
const MAX_DEFLATE_RATIO = 1032;
const GZIP_MIN_BYTES = 18; // 10-byte header, an empty deflate block (2), CRC-32 and ISIZE (8)
// Compressed bytes given to the inflater at a time, so a lying stream is stopped early.
const PUSH_CHUNK = 1 << 16;

interface Header {
  dtype: IdxDtype;
  itemSize: number;
  shape: number[];
  headerBytes: number;
  dataBytes: number;
}

const hex = (b: number) => `0x${b.toString(16).padStart(2, '0')}`;
const fmtShape = (shape: number[]) => `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;

/**
 * Parses the header at the start of `b`; null when `b` is too short to hold all of it yet.
 * `limit` is the most data bytes the file can hold; a header declaring more is refused.
 */
function readHeader(b: Uint8Array, name: string, limit: number, limitWhy: string): Header | null {
  if (b.length < 4) return null;
  if (b[0] !== 0 || b[1] !== 0) {
    const what = b[0] === 0x1f && b[1] === 0x8b ? ' (a gzip inside the gzip?)' : b[0] === 0x50 && b[1] === 0x4b ? ' (a ZIP archive?)' : '';
    throw new ValueError(`${FN} requires an IDX file to begin with two zero bytes, but ${name} begins with ${hex(b[0])} ${hex(b[1])}${what}`);
  }
  const type = TYPES[b[2]];
  if (type === undefined) {
    throw new ValueError(
      `${FN} requires the IDX type byte to be one of 0x08 (uint8), 0x09 (int8), 0x0b (int16), 0x0c (int32), 0x0d (float32), 0x0e (float64), ` +
        `but ${name} has type byte ${hex(b[2])}`,
    );
  }
  const ndim = b[3];
  if (ndim === 0) throw new ValueError(`${FN} requires an IDX file to have at least 1 dimension, but ${name} declares 0`);
  const headerBytes = 4 + 4 * ndim;
  if (b.length < headerBytes) return null;
  const view = new DataView(b.buffer, b.byteOffset, headerBytes);
  const shape: number[] = [];
  let count = 1;
  for (let i = 0; i < ndim; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    shape.push(d);
    count *= d;
  }
  // count <= 2^(32*255) may be inexact as a double; any count over `limit` is refused either way.
  const dataBytes = count * type.size;
  if (dataBytes > limit) {
    throw new ValueError(
      `${FN} requires the declared shape to fit in the file, but ${name} declares ${type.dtype} ${fmtShape(shape)}, ` +
        `${dataBytes} bytes of data, and ${limitWhy}`,
    );
  }
  return { dtype: type.dtype, itemSize: type.size, shape, headerBytes, dataBytes };
}

/** The elements of `raw` (big-endian, `header.dtype`) as a native typed array of their own. */
function decode(raw: Uint8Array, header: Header): IdxArray['data'] {
  const n = header.dataBytes / header.itemSize;
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  switch (header.dtype) {
    case 'uint8':
      return raw;
    case 'int8':
      return new Int8Array(raw.buffer, raw.byteOffset, raw.byteLength);
    case 'int16': {
      const out = new Int16Array(n);
      for (let i = 0; i < n; i++) out[i] = v.getInt16(2 * i, false);
      return out;
    }
    case 'int32': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = v.getInt32(4 * i, false);
      return out;
    }
    case 'float32': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = v.getFloat32(4 * i, false);
      return out;
    }
    case 'float64': {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = v.getFloat64(8 * i, false);
      return out;
    }
  }
}

function loadPlain(b: Uint8Array, name: string): IdxArray {
  if (b.length < 4) throw new ValueError(`${FN} requires an IDX file of at least 4 bytes (its magic number), but ${name} has ${b.length}`);
  const header = readHeader(b, name, Math.max(0, b.length - 4 - 4 * b[3]), `the file has ${Math.max(0, b.length - 4 - 4 * b[3])} after its header (truncated?)`);
  if (header === null) {
    throw new ValueError(`${FN} requires the ${4 + 4 * b[3]}-byte header that ${name} declares (${b[3]} dimension${b[3] === 1 ? '' : 's'}), but the file has ${b.length} bytes (truncated?)`);
  }
  const extra = b.length - header.headerBytes - header.dataBytes;
  if (extra !== 0) {
    throw new ValueError(
      `${FN} requires an IDX file to end with its data, but ${name} has ${extra} bytes after the ${header.dataBytes} of its ${header.dtype} ${fmtShape(header.shape)}`,
    );
  }
  // A copy: the result does not alias the caller's bytes.
  const raw = b.slice(header.headerBytes);
  return { dtype: header.dtype, shape: header.shape, data: decode(raw, header) };
}

/**
 * Inflates a gzip file (one member or several concatenated, RFC 1952) holding an IDX file. The
 * output buffer is allocated once the IDX header is known and found to fit what `gz` can expand
 * to; each member's CRC-32 and length are checked against its trailer.
 */
function loadGzip(gz: Uint8Array, name: string): IdxArray {
  if (gz.length < GZIP_MIN_BYTES) throw new ValueError(`${FN} requires a gzip file of at least ${GZIP_MIN_BYTES} bytes, but ${name} has ${gz.length} (truncated?)`);
  const limit = MAX_DEFLATE_RATIO * gz.length;
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let header: Header | null = null;
  let data: Uint8Array | null = null;
  let written = 0; // bytes of the IDX file seen so far, header included
  // Per member: its compressed start, and the CRC-32 and length of its output.
  const members = [{ start: 0, crc: 0, length: 0 }];

  const take = (chunk: Uint8Array) => {
    const m = members[members.length - 1];
    m.crc = crc32(chunk, m.crc);
    m.length += chunk.length;
    if (header === null) {
      pending.push(chunk);
      pendingBytes += chunk.length;
      const head = new Uint8Array(Math.min(pendingBytes, 4 + 4 * 255));
      let at = 0;
      for (const p of pending) {
        if (at >= head.length) break;
        const part = p.subarray(0, head.length - at);
        head.set(part, at);
        at += part.length;
      }
      header = readHeader(head, name, limit, `a gzip file of ${gz.length} bytes expands to at most ${limit}`);
      if (header === null) return;
      data = new Uint8Array(header.dataBytes);
      const all = pending;
      pending = [];
      written = 0;
      for (const p of all) put(p);
      return;
    }
    put(chunk);
  };
  const put = (chunk: Uint8Array) => {
    const h = header!;
    let c = chunk;
    if (written < h.headerBytes) {
      const skip = Math.min(h.headerBytes - written, c.length);
      written += skip;
      c = c.subarray(skip);
      if (c.length === 0) return;
    }
    if (written - h.headerBytes + c.length > h.dataBytes) {
      throw new ValueError(
        `${FN} requires an IDX file to end with its data, but ${name} has more than the ${h.dataBytes} bytes of its ${h.dtype} ${fmtShape(h.shape)} once decompressed`,
      );
    }
    data!.set(c, written - h.headerBytes);
    written += c.length;
  };

  const inflater = new Gunzip((chunk) => take(chunk));
  inflater.onmember = (offset) => members.push({ start: offset, crc: 0, length: 0 });
  try {
    for (let at = 0; at < gz.length; at += PUSH_CHUNK) {
      const end = Math.min(at + PUSH_CHUNK, gz.length);
      inflater.push(gz.subarray(at, end), end === gz.length);
    }
  } catch (e) {
    if (e instanceof ValueError) throw e;
    throw new ValueError(`${FN} requires valid gzip data, but ${name} is not: ${(e as Error).message} (truncated or corrupt?)`);
  }
  // Lengths first: a truncated file is better reported as truncated than as a CRC mismatch.
  if (header === null) {
    const got = pending.reduce((n, p) => n + p.length, 0);
    const head = new Uint8Array(got);
    let at = 0;
    for (const p of pending) head.set(p, (at += p.length) - p.length);
    if (got < 4) throw new ValueError(`${FN} requires an IDX file of at least 4 bytes (its magic number), but ${name} decompresses to ${got}`);
    throw new ValueError(`${FN} requires the ${4 + 4 * head[3]}-byte header that ${name} declares (${head[3]} dimension${head[3] === 1 ? '' : 's'}), but it decompresses to ${got} bytes (truncated?)`);
  }
  const h: Header = header;
  if (written !== h.headerBytes + h.dataBytes) {
    throw new ValueError(
      `${FN} requires the ${h.dataBytes} bytes of data that ${name} declares (${h.dtype} ${fmtShape(h.shape)}), but it decompresses to ${Math.max(0, written - h.headerBytes)} (truncated?)`,
    );
  }
  for (let i = 0; i < members.length; i++) {
    const end = i + 1 < members.length ? members[i + 1].start : gz.length;
    if (end - 8 < members[i].start) throw new ValueError(`${FN} requires valid gzip data, but member ${i} of ${name} has no trailer (truncated?)`);
    const t = new DataView(gz.buffer, gz.byteOffset + end - 8, 8);
    const crc = t.getUint32(0, true);
    const size = t.getUint32(4, true);
    if (crc !== members[i].crc || size !== members[i].length % 2 ** 32) {
      throw new ValueError(
        `${FN} requires each gzip member's CRC-32 and length to match its data, but member ${i} of ${name} stores ` +
          `CRC ${crc.toString(16)} and length ${size} for data with CRC ${members[i].crc.toString(16)} and length ${members[i].length} (corrupt?)`,
      );
    }
  }
  return { dtype: h.dtype, shape: h.shape, data: decode(data!, h) };
}

/**
 * Reads an IDX file (MNIST, Fashion-MNIST), plain or gzip-compressed (recognised by its magic
 * bytes `1f 8b`), as `{ dtype, shape, data }`.
 *
 * @param bytes the whole file
 * @param options `name`: what error messages call the file (its path, say)
 * @returns the array: `uint8` and `int8` as Uint8Array / Int8Array, `int16`, `int32`, `float32`,
 *   `float64` converted from big-endian to Int16Array, Int32Array, Float32Array, Float64Array
 * @throws ValueError naming the file, the rule and the value for a wrong magic number, an unknown
 *   type byte, zero dimensions, a truncated file, bytes after the data, a shape larger than the file
 *   (checked before anything is allocated from it), broken gzip data or a CRC mismatch
 * @throws TypeError if `bytes` is not a Uint8Array or ArrayBuffer
 *
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * import { loadIdx } from 'lasagne-webgpu';
 * const path = '/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz';
 * const images = loadIdx(readFileSync(path), { name: path });   // uint8, shape [10000, 28, 28]
 * ```
 */
export function loadIdx(bytes: Uint8Array | ArrayBuffer, options?: LoadIdxOptions): IdxArray {
  const b = toBytes(bytes, FN);
  const { name = 'bytes' } = checkOptions<LoadIdxOptions>(options, ['name'], FN);
  if (typeof name !== 'string') throw new TypeError(`${FN} expects options.name as a string, but got ${typeof name}`);
  return b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b ? loadGzip(b, name) : loadPlain(b, name);
}
