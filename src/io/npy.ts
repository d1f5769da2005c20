import { ValueError } from '../errors.js';
import { MAX_ELEMENTS, MAX_RANK, asNDArray, formatShape, type NDArray } from '../ndarray.js';

/**
 * Reading and writing numpy's `.npy` format (numpy/lib/format.py), the member format of `.npz`.
 *
 * Layout: magic `\x93NUMPY`, major and minor version bytes, HEADER_LEN (little-endian uint16 for
 * v1.0, uint32 for v2.0 and v3.0), the header (a Python dict literal: latin1 for v1/v2, UTF-8 for
 * v3), then `prod(shape) * itemsize` bytes of raw data.
 */

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const ARRAY_ALIGN = 64;
// numpy leaves room in the header so the growth axis can be rewritten in place.
const GROWTH_AXIS_MAX_DIGITS = 21;

/**
 * Longest `.npy` header read: numpy's `max_header_size` default (numpy/lib/format.py
 * `_MAX_HEADER_SIZE`). Headers numpy writes for plain arrays are at most a few hundred bytes; a
 * longer one is refused before it is decoded, so a hostile header cannot make a huge string.
 */
export const NPY_MAX_HEADER_SIZE = 10000;

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** What a `.npy` header says, once checked. */
export interface NpyHeader {
  /** Format version as `[major, minor]`: `[1, 0]`, `[2, 0]` or `[3, 0]`. */
  version: [number, number];
  /** The dtype string exactly as stored, e.g. `'<f4'`. */
  descr: string;
  /** `true` when the data is stored in Fortran (column-major) order. */
  fortranOrder: boolean;
  /** The array's shape (`[]` for a 0-d array). */
  shape: number[];
  /** Number of elements: the product of `shape` (1 for `[]`). */
  size: number;
  /** Bytes per element of `descr`. */
  itemsize: number;
  /** Byte offset of the data from the start of the `.npy` bytes. */
  dataOffset: number;
  /** `size * itemsize`: the exact number of data bytes that must follow the header. */
  dataBytes: number;
}

interface Dtype {
  kind: 'f' | 'i' | 'u' | 'b';
  itemsize: number;
  littleEndian: boolean;
}

function fail(what: string, message: string): never {
  throw new ValueError(`${what}: ${message}`);
}

function quote(s: string): string {
  return /^[\x20-\x7e]*$/.test(s) && !s.includes("'") ? `'${s}'` : JSON.stringify(s);
}

/** A dtype string as numpy writes it: byte order `<`, `>` or `|`, a kind letter, the item size. */
function parseDescr(descr: string, what: string): Dtype {
  if (/^[<>|=]?O\d*$/.test(descr)) {
    fail(what, `object arrays (pickled data) are not supported (dtype ${quote(descr)}); save plain float32 arrays, e.g. np.savez(path, *lasagne.layers.get_all_param_values(net))`);
  }
  const m = /^([<>|])([fiub])(\d)$/.exec(descr);
  const supported = "float16/32/64 ('<f4', '>f4', '<f8', ...), signed and unsigned integers ('|u1', '<i4', '<i8', ...) and bool ('|b1'), all converted to float32";
  if (m === null) fail(what, `unsupported dtype ${quote(descr)}; only ${supported} can be read`);
  const [, order, kind, sizeText] = m;
  const itemsize = Number(sizeText);
  const sizes: Record<string, number[]> = { f: [2, 4, 8], i: [1, 2, 4, 8], u: [1, 2, 4, 8], b: [1] };
  if (!sizes[kind].includes(itemsize)) fail(what, `unsupported dtype ${quote(descr)}; only ${supported} can be read`);
  if (order === '|' && itemsize !== 1) fail(what, `dtype ${quote(descr)} has no byte order ('|') but items of ${itemsize} bytes`);
  return { kind: kind as Dtype['kind'], itemsize, littleEndian: order !== '>' };
}

type HeaderValue = string | boolean | number[];

/**
 * A strict parser for the one Python literal numpy writes: a dict whose keys are strings and whose
 * values are strings, `True`/`False` or tuples of non-negative ints (Python 2 may add `L`). Never eval.
 */
class HeaderParser {
  private pos = 0;
  /** The key whose value is being parsed (for messages). */
  private key = '';
  constructor(
    private readonly text: string,
    private readonly what: string,
  ) {}

  private error(message: string): never {
    const shown = this.text.length > 200 ? `${this.text.slice(0, 200)}...` : this.text;
    fail(this.what, `cannot parse .npy header ${JSON.stringify(shown)}: ${message} at character ${this.pos}`);
  }

  private skipSpace(): void {
    while (this.pos < this.text.length && ' \t\n\r\f'.includes(this.text[this.pos])) this.pos++;
  }

  private peek(): string {
    this.skipSpace();
    return this.pos < this.text.length ? this.text[this.pos] : '';
  }

  private expect(ch: string): void {
    if (this.peek() !== ch) this.error(`expected '${ch}'`);
    this.pos++;
  }

  private string(): string {
    const q = this.peek();
    if (q !== "'" && q !== '"') this.error('expected a string');
    const end = this.text.indexOf(q, this.pos + 1);
    if (end < 0) this.error('unterminated string');
    const s = this.text.slice(this.pos + 1, end);
    if (s.includes('\\') || s.includes('\n')) this.error('escapes are not supported in header strings');
    this.pos = end + 1;
    return s;
  }

  private int(): number {
    this.skipSpace();
    const m = /^\d+/.exec(this.text.slice(this.pos, this.pos + 40));
    if (m === null) this.error(this.text[this.pos] === '-' ? 'negative dimension' : 'expected a non-negative integer');
    const digits = m[0];
    this.pos += digits.length;
    if (this.text[this.pos] === 'L' || this.text[this.pos] === 'l') this.pos++; // Python 2 long suffix
    const n = Number(digits);
    if (!Number.isSafeInteger(n)) this.error(`dimension ${digits} is absurdly large`);
    return n;
  }

  private tuple(): number[] {
    this.expect('(');
    const items: number[] = [];
    let sawComma = false;
    while (this.peek() !== ')') {
      items.push(this.int());
      sawComma = false;
      if (this.peek() === ',') {
        this.pos++;
        sawComma = true;
      } else if (this.peek() !== ')') {
        this.error("expected ',' or ')' in shape");
      }
    }
    this.pos++;
    // `(5)` is the int 5 in Python, not a tuple; numpy rejects it too.
    if (items.length === 1 && !sawComma) this.error('shape (n) is not a tuple; a 1-d shape is written (n,)');
    return items;
  }

  private value(): HeaderValue {
    const c = this.peek();
    if (c === "'" || c === '"') return this.string();
    if (c === '(') return this.tuple();
    if (c === '[' && this.key === 'descr') fail(this.what, 'structured dtypes (a list descr) are not supported; save plain float32 arrays');
    if (c === '[') this.error(`expected a string, True, False or a tuple for '${this.key}', not a list`);
    for (const [word, v] of [['True', true], ['False', false]] as const) {
      if (this.text.startsWith(word, this.pos) && !/\w/.test(this.text[this.pos + word.length] ?? '')) {
        this.pos += word.length;
        return v;
      }
    }
    this.error('expected a string, True, False or a tuple');
  }

  parse(): Map<string, HeaderValue> {
    const d = new Map<string, HeaderValue>();
    this.expect('{');
    while (this.peek() !== '}') {
      const key = this.string();
      if (d.has(key)) this.error(`duplicate key '${key}'`);
      this.key = key;
      this.expect(':');
      d.set(key, this.value());
      if (this.peek() === ',') this.pos++;
      else if (this.peek() !== '}') this.error("expected ',' or '}'");
    }
    this.pos++;
    if (this.peek() !== '') this.error('unexpected text after the dict');
    return d;
  }
}

function decodeHeader(bytes: Uint8Array, utf8: boolean, what: string): string {
  if (utf8) {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      fail(what, 'the v3.0 .npy header is not valid UTF-8');
    }
  }
  let s = '';
  for (let i = 0; i < bytes.length; i += 8192) {
    s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return s;
}

/**
 * Reads and checks the header of a `.npy` file without touching the data. Only the header bytes
 * need to be present: `bytes` may be a prefix of the file. The caller checks `dataOffset + dataBytes`
 * against the real length.
 *
 * @param bytes the `.npy` bytes (or a prefix holding at least the whole header)
 * @param what names the array in error messages, e.g. `'arr_3.npy'`
 * @param availableBytes the full length of the `.npy` data if `bytes` is only a prefix; a shape whose
 *   data could not fit in it is rejected (the size is computed exactly, so nothing overflows)
 * @throws ValueError for a wrong magic, an unknown version, a header longer than
 *   {@link NPY_MAX_HEADER_SIZE} (10000 bytes, numpy's `max_header_size`) or running past the end, a
 *   header that is not exactly `{'descr', 'fortran_order', 'shape'}`, an unsupported dtype (object arrays
 *   included), a shape whose data would not fit, or more than 2^28 elements (the element limit of
 *   every tensor)
 *
 * @example
 * ```ts
 * import { readNpyHeader } from 'lasagne-webgpu';
 * const bytes = new Uint8Array(await (await fetch('W.npy')).arrayBuffer());
 * const { shape, descr } = readNpyHeader(bytes, 'W.npy'); // e.g. [16, 3, 3, 3], '<f4'
 * ```
 */
export function readNpyHeader(bytes: Uint8Array, what: string, availableBytes: number = bytes.length): NpyHeader {
  if (bytes.length < 8 || MAGIC.some((b, i) => bytes[i] !== b)) {
    const seen = Array.from(bytes.subarray(0, 6), (b) => b.toString(16).padStart(2, '0')).join(' ');
    fail(what, `not a .npy array: the file must start with the magic bytes 93 4e 55 4d 50 59 ("\\x93NUMPY"), but starts with ${seen || 'nothing'}`);
  }
  const major = bytes[6];
  const minor = bytes[7];
  if (!((major === 1 || major === 2 || major === 3) && minor === 0)) {
    fail(what, `unsupported .npy format version ${major}.${minor}; only 1.0, 2.0 and 3.0 exist`);
  }
  const lenBytes = major === 1 ? 2 : 4;
  const start = 8 + lenBytes;
  if (bytes.length < start) fail(what, `truncated .npy header: ${bytes.length} bytes, the header length field ends at ${start}`);
  const headerLen =
    major === 1
      ? bytes[8] | (bytes[9] << 8)
      : (bytes[8] | (bytes[9] << 8) | (bytes[10] << 16) | (bytes[11] << 24)) >>> 0;
  if (headerLen > NPY_MAX_HEADER_SIZE) {
    fail(what, `the .npy header declares ${headerLen} bytes, more than the limit of ${NPY_MAX_HEADER_SIZE} (numpy's max_header_size); the file is corrupt or hostile`);
  }
  const dataOffset = start + headerLen;
  if (dataOffset > bytes.length) {
    fail(what, `the .npy header declares ${headerLen} bytes, past the end of the ${availableBytes}-byte array`);
  }
  const text = decodeHeader(bytes.subarray(start, dataOffset), major === 3, what);
  const d = new HeaderParser(text, what).parse();

  const keys = [...d.keys()].sort();
  if (keys.join() !== 'descr,fortran_order,shape') {
    fail(what, `the .npy header must have exactly the keys 'descr', 'fortran_order', 'shape', but has ${keys.map((k) => quote(k)).join(', ') || 'none'}`);
  }
  const descr = d.get('descr');
  const fortranOrder = d.get('fortran_order');
  const shape = d.get('shape');
  if (typeof descr !== 'string') fail(what, `'descr' must be a dtype string such as '<f4', but is ${JSON.stringify(descr)}`);
  if (typeof fortranOrder !== 'boolean') fail(what, `'fortran_order' must be True or False, but is ${JSON.stringify(fortranOrder)}`);
  if (!Array.isArray(shape)) fail(what, `'shape' must be a tuple of ints, but is ${JSON.stringify(shape)}`);
  const dtype = parseDescr(descr, what);
  if (shape.length > MAX_RANK) fail(what, `shape must have at most ${MAX_RANK} dimensions (numpy's limit), but has ${shape.length}`);

  // Exact arithmetic: a hostile shape must not overflow into a small or negative size.
  let needed = BigInt(dtype.itemsize);
  for (const dim of shape) needed *= BigInt(dim);
  const available = Math.max(0, availableBytes - dataOffset);
  if (needed > BigInt(available)) {
    fail(what, `shape ${formatShape(shape)} with dtype ${quote(descr)} needs ${needed} data bytes, but the array has ${available}`);
  }
  const dataBytes = Number(needed);
  const size = dataBytes / dtype.itemsize;
  if (size > MAX_ELEMENTS) {
    fail(what, `shape ${formatShape(shape)} has ${size} elements, more than the limit of 2^28 = ${MAX_ELEMENTS} elements per array`);
  }
  return {
    version: [major, minor],
    descr,
    fortranOrder,
    shape,
    size,
    itemsize: dtype.itemsize,
    dataOffset,
    dataBytes,
  };
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Converts `n` items of `dtype` at `src` into a new Float32Array (float32 bits are copied exactly). */
function toFloat32(src: Uint8Array, n: number, dtype: Dtype): Float32Array {
  const out = new Float32Array(n);
  const { kind, itemsize, littleEndian: le } = dtype;
  if (kind === 'f' && itemsize === 4) {
    const out8 = new Uint8Array(out.buffer);
    if (le === HOST_LITTLE_ENDIAN) {
      out8.set(src);
    } else {
      for (let i = 0; i < out8.length; i += 4) {
        out8[i] = src[i + 3];
        out8[i + 1] = src[i + 2];
        out8[i + 2] = src[i + 1];
        out8[i + 3] = src[i];
      }
    }
    return out;
  }
  const view = new DataView(src.buffer, src.byteOffset, src.byteLength);
  const read: (off: number) => number =
    kind === 'f'
      ? itemsize === 8
        ? (o) => view.getFloat64(o, le)
        : (o) => halfToFloat(view.getUint16(o, le))
      : kind === 'b'
        ? (o) => (view.getUint8(o) !== 0 ? 1 : 0)
        : kind === 'i'
          ? itemsize === 1
            ? (o) => view.getInt8(o)
            : itemsize === 2
              ? (o) => view.getInt16(o, le)
              : itemsize === 4
                ? (o) => view.getInt32(o, le)
                : (o) => Number(view.getBigInt64(o, le))
          : itemsize === 1
            ? (o) => view.getUint8(o)
            : itemsize === 2
              ? (o) => view.getUint16(o, le)
              : itemsize === 4
                ? (o) => view.getUint32(o, le)
                : (o) => Number(view.getBigUint64(o, le));
  for (let i = 0, o = 0; i < n; i++, o += itemsize) out[i] = read(o);
  return out;
}

/** Reorders data stored in Fortran order (the C order of the reversed shape) into C order. */
function fortranToC(src: Float32Array, shape: number[]): Float32Array {
  const nd = shape.length;
  if (nd <= 1 || src.length === 0) return src;
  const out = new Float32Array(src.length);
  // Fortran strides: axis 0 is contiguous.
  const stride = new Array<number>(nd);
  for (let k = 0, s = 1; k < nd; k++) {
    stride[k] = s;
    s *= shape[k];
  }
  const index = new Array<number>(nd).fill(0);
  const last = shape[nd - 1];
  const lastStride = stride[nd - 1];
  let offset = 0;
  for (let i = 0; i < out.length; ) {
    for (let j = 0, o = offset; j < last; j++, o += lastStride) out[i++] = src[o];
    // Advance the C-order odometer over axes nd-2 ... 0.
    for (let k = nd - 2; k >= 0; k--) {
      index[k]++;
      offset += stride[k];
      if (index[k] < shape[k]) break;
      offset -= stride[k] * shape[k];
      index[k] = 0;
    }
  }
  return out;
}

/**
 * Parses one `.npy` array (format 1.0, 2.0 or 3.0) into a float32 NDArray in C order.
 *
 * `'<f4'` is copied bit for bit; `'>f4'` is byte-swapped; `'<f8'`/`'>f8'`, `float16`, integers
 * (`'|u1'`, `'|i1'`, `'<i2'` ... `'<i8'`, `'<u8'`, through float64 for the 64-bit ones) and bool
 * (`'|b1'`) are converted to float32 with round-to-nearest-even, as `np.astype(np.float32)` does.
 * `fortran_order: True` is honoured (the result is always C order). A 0-d array (`shape ()`)
 * gives one element and `shape: []`. The returned data is a fresh copy, never a view of `bytes`.
 *
 * The header is read by a strict parser of the Python dict literal numpy writes (any key order,
 * trailing commas, Python 2 `L` suffixes), never evaluated.
 *
 * @param bytes the complete `.npy` file
 * @param what names the array in error messages, e.g. `'arr_3.npy'`
 * @throws ValueError naming `what` for a wrong magic or version, a truncated header or data, data
 *   longer than the shape needs, a malformed header or one longer than 10000 bytes (numpy's
 *   `max_header_size`), object arrays (`'|O'`, pickled data), structured or other unsupported
 *   dtypes, negative or absurd shapes, and more than 2^28 elements
 *
 * @example
 * ```ts
 * import { layers, parseNpy } from 'lasagne-webgpu';
 * // W.npy and b.npy written by np.save(...) from conv.W.get_value() and conv.b.get_value()
 * const load = async (url: string) => parseNpy(new Uint8Array(await (await fetch(url)).arrayBuffer()), url);
 * layers.setAllParamValues(conv, [await load('W.npy'), await load('b.npy')]);
 * ```
 */
export function parseNpy(bytes: Uint8Array, what: string): NDArray {
  const header = readNpyHeader(bytes, what);
  const available = bytes.length - header.dataOffset;
  if (available !== header.dataBytes) {
    fail(what, `shape ${formatShape(header.shape)} with dtype ${quote(header.descr)} needs ${header.dataBytes} data bytes, but the array has ${available}`);
  }
  const dtype = parseDescr(header.descr, what);
  const src = bytes.subarray(header.dataOffset, header.dataOffset + header.dataBytes);
  let data = toFloat32(src, header.size, dtype);
  if (header.fortranOrder) data = fortranToC(data, header.shape);
  return { data, shape: [...header.shape] };
}

function pythonTuple(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

/**
 * Encodes an NDArray as a `.npy` file exactly as `np.save` writes a C-ordered float32 array:
 * format 1.0 (2.0 if the header would exceed 65535 bytes), descr `'<f4'`, keys sorted, numpy's
 * spare growth-axis spaces, padded with spaces and a final `\n` so the data starts on a multiple
 * of 64 bytes.
 *
 * @param a the array (a plain `{ data: Float32Array, shape }` works too)
 * @returns the `.npy` bytes
 * @throws ValueError if `a` is not a valid NDArray
 *
 * @example
 * ```ts
 * import { encodeNpy, layers } from 'lasagne-webgpu';
 * const [W] = layers.getAllParamValues(network);
 * const blob = new Blob([encodeNpy(W)]); // np.load reads it as a float32 array of W.shape
 * ```
 */
export function encodeNpy(a: NDArray): Uint8Array {
  const arr = asNDArray(a, 'encodeNpy: a');
  const shape = arr.shape;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${pythonTuple(shape)}, }`;
  if (shape.length > 0) header += ' '.repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(shape[0]).length));
  // The header is ASCII. hlen counts the final '\n'; numpy pads with 64 spaces when already aligned.
  const hlen = header.length + 1;
  let lenBytes = 2;
  let padlen = ARRAY_ALIGN - ((6 + 2 + lenBytes + hlen) % ARRAY_ALIGN);
  if (hlen + padlen > 0xffff) {
    lenBytes = 4;
    padlen = ARRAY_ALIGN - ((6 + 2 + lenBytes + hlen) % ARRAY_ALIGN);
  }
  const headerBytes = hlen + padlen;
  const dataOffset = 8 + lenBytes + headerBytes;
  const out = new Uint8Array(dataOffset + arr.data.length * 4);
  out.set(MAGIC, 0);
  out[6] = lenBytes === 2 ? 1 : 2;
  out[7] = 0;
  for (let i = 0; i < lenBytes; i++) out[8 + i] = (headerBytes >>> (8 * i)) & 0xff;
  let p = 8 + lenBytes;
  for (let i = 0; i < header.length; i++) out[p++] = header.charCodeAt(i);
  out.fill(0x20, p, p + padlen);
  out[dataOffset - 1] = 0x0a;
  const src = new Uint8Array(arr.data.buffer, arr.data.byteOffset, arr.data.byteLength);
  if (HOST_LITTLE_ENDIAN) {
    out.set(src, dataOffset);
  } else {
    const view = new DataView(out.buffer);
    for (let i = 0; i < arr.data.length; i++) view.setFloat32(dataOffset + 4 * i, arr.data[i], true);
  }
  return out;
}
