import { Inflate, inflateSync } from 'fflate';
import { ValueError } from '../errors.js';
import { asNDArray, type NDArray } from '../ndarray.js';
import { checkOptions } from '../options.js';
import { NPY_MAX_HEADER_SIZE, encodeNpy, parseNpy, readNpyHeader, type NpyHeader } from './npy.js';

/**
 * Reading and writing numpy's `.npz` (a ZIP archive of `.npy` members), as written by
 * `np.savez(path, *lasagne.layers.get_all_param_values(net))` and `np.savez_compressed`.
 *
 * Every size and offset the file declares is checked against the real byte length before it is
 * used or allocated; anything broken raises `ValueError` naming the member.
 */

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;
const CENTRAL_SIZE = 46;
const LOCAL_SIZE = 30;
const ZIP64_EOCD_SIZE = 56;
const ZIP64_LOCATOR_SIZE = 20;
const ZIP64_EXTRA_ID = 0x0001;
const U32_MAX = 0xffffffff;
// Python's zipfile switches to Zip64 fields above these (ZIP64_LIMIT, ZIP_FILECOUNT_LIMIT).
const ZIP64_LIMIT = 0x7fffffff;
const ZIP_FILECOUNT_LIMIT = 0xffff;
// DEFLATE expands at most 1032:1 (a 258-byte match per 2 bits); beyond that a size is a lie.
const MAX_DEFLATE_RATIO = 1032;
// The longest .npy header, with its magic, version and length field: all a peek ever needs.
const NPY_PEEK_LIMIT = 12 + NPY_MAX_HEADER_SIZE;
/** loadNpz's default `maxBytes`: 1 GiB of decoded data in all. */
export const NPZ_MAX_BYTES = 2 ** 30;
const PEEK_CHUNK = 4096;

const METHOD_NAMES: Record<number, string> = {
  1: 'shrink',
  6: 'implode',
  9: 'deflate64',
  12: 'bzip2',
  14: 'lzma',
  93: 'zstd',
  95: 'xz',
  98: 'ppmd',
  99: 'AES encryption',
};

// The upper half of code page 437, the zip default for names without the UTF-8 flag (bit 11).
const CP437_HIGH =
  '\u00c7\u00fc\u00e9\u00e2\u00e4\u00e0\u00e5\u00e7\u00ea\u00eb\u00e8\u00ef\u00ee\u00ec\u00c4\u00c5' +
  '\u00c9\u00e6\u00c6\u00f4\u00f6\u00f2\u00fb\u00f9\u00ff\u00d6\u00dc\u00a2\u00a3\u00a5\u20a7\u0192' +
  '\u00e1\u00ed\u00f3\u00fa\u00f1\u00d1\u00aa\u00ba\u00bf\u2310\u00ac\u00bd\u00bc\u00a1\u00ab\u00bb' +
  '\u2591\u2592\u2593\u2502\u2524\u2561\u2562\u2556\u2555\u2563\u2551\u2557\u255d\u255c\u255b\u2510' +
  '\u2514\u2534\u252c\u251c\u2500\u253c\u255e\u255f\u255a\u2554\u2569\u2566\u2560\u2550\u256c\u2567' +
  '\u2568\u2564\u2565\u2559\u2558\u2552\u2553\u256b\u256a\u2518\u250c\u2588\u2584\u258c\u2590\u2580' +
  '\u03b1\u00df\u0393\u03c0\u03a3\u03c3\u00b5\u03c4\u03a6\u0398\u03a9\u03b4\u221e\u03c6\u03b5\u2229' +
  '\u2261\u00b1\u2265\u2264\u2320\u2321\u00f7\u2248\u00b0\u2219\u00b7\u221a\u207f\u00b2\u25a0\u00a0';

/** CRC-32 (IEEE 802.3, reflected 0xEDB88320) tables for slicing by 8 bytes. */
const CRC_TABLE = (() => {
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    for (let k = 1; k < 8; k++) t[k * 256 + n] = (t[(k - 1) * 256 + n] >>> 8) ^ t[t[(k - 1) * 256 + n] & 0xff];
  }
  return t;
})();

/**
 * CRC-32 of `d` as an unsigned 32-bit number (zip and gzip use the same one); pass the CRC of the
 * bytes before `d` as `previous` to continue it over a stream that arrives in pieces.
 */
export function crc32(d: Uint8Array, previous = 0): number {
  const t = CRC_TABLE;
  let c = ~previous;
  let i = 0;
  for (const end8 = d.length - (d.length % 8); i < end8; i += 8) {
    c ^= d[i] | (d[i + 1] << 8) | (d[i + 2] << 16) | (d[i + 3] << 24);
    c =
      t[1792 + (c & 0xff)] ^
      t[1536 + ((c >>> 8) & 0xff)] ^
      t[1280 + ((c >>> 16) & 0xff)] ^
      t[1024 + (c >>> 24)] ^
      t[768 + d[i + 4]] ^
      t[512 + d[i + 5]] ^
      t[256 + d[i + 6]] ^
      t[d[i + 7]];
  }
  for (; i < d.length; i++) c = t[(c ^ d[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

function fail(message: string): never {
  throw new ValueError(message);
}

/** A member name as it should appear in a message: plain if printable, JSON-quoted otherwise. */
function show(name: string): string {
  return /^[\x21-\x7e][\x20-\x7e]*$/.test(name) ? name : JSON.stringify(name);
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

/** Little-endian reads that never go past `end` (the caller has checked the record fits). */
const u16 = (b: Uint8Array, p: number) => b[p] | (b[p + 1] << 8);
const u32 = (b: Uint8Array, p: number) => (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
// Exact below 2**53; anything larger is far past any real length and fails the range checks.
const u64 = (b: Uint8Array, p: number) => u32(b, p) + u32(b, p + 4) * 0x100000000;

interface Entry {
  name: string;
  rawName: Uint8Array;
  flags: number;
  method: number;
  crc: number;
  compressedSize: number;
  uncompressedSize: number;
  localOffset: number;
  /** Filled in by `locateData`. */
  dataStart: number;
}

interface Directory {
  entries: Entry[];
  /** Member data must end before this offset (the start of the central directory). */
  dataLimit: number;
}

/** `bytes` as a Uint8Array view (ArrayBuffers and other realms' arrays included), else a TypeError naming `fn`. */
export function toBytes(bytes: unknown, fn: string): Uint8Array {
  if (bytes instanceof Uint8Array) return bytes;
  if (bytes instanceof ArrayBuffer) return new Uint8Array(bytes);
  // Typed arrays and buffers from another realm (a worker, an iframe) fail instanceof.
  const tag = Object.prototype.toString.call(bytes);
  if (tag === '[object ArrayBuffer]') return new Uint8Array(bytes as ArrayBuffer);
  if (tag === '[object Uint8Array]') {
    const v = bytes as Uint8Array;
    return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  }
  throw new TypeError(
    `${fn} expects the file's bytes as a Uint8Array or ArrayBuffer, but got ${tag.slice(8, -1)}; ` +
      `e.g. new Uint8Array(await (await fetch(url)).arrayBuffer())`,
  );
}

function decodeName(raw: Uint8Array, utf8: boolean, fn: string): string {
  if (utf8) {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(raw);
    } catch {
      fail(`${fn}: a member name is flagged UTF-8 but is not valid UTF-8`);
    }
  }
  let s = '';
  for (const b of raw) s += b < 0x80 ? String.fromCharCode(b) : CP437_HIGH[b - 0x80];
  return s;
}

/** The values of a Zip64 extended-information field (id 0x0001) that `want` says are present. */
function readZip64Extra(
  b: Uint8Array,
  start: number,
  end: number,
  want: { uncompressed: boolean; compressed: boolean; offset: boolean; disk: boolean },
  what: string,
): { uncompressed?: number; compressed?: number; offset?: number; disk?: number } | null {
  for (let p = start; p + 4 <= end; ) {
    const id = u16(b, p);
    const size = u16(b, p + 2);
    const dataEnd = p + 4 + size;
    if (dataEnd > end) fail(`${what}: corrupt zip extra field (id ${hex(id)} of ${size} bytes runs past the end)`);
    if (id === ZIP64_EXTRA_ID) {
      const out: { uncompressed?: number; compressed?: number; offset?: number; disk?: number } = {};
      let q = p + 4;
      const take = (n: number, label: string): number => {
        if (q + n > dataEnd) fail(`${what}: corrupt Zip64 extra field (${size} bytes, too short for the ${label})`);
        const v = n === 8 ? u64(b, q) : u32(b, q);
        q += n;
        return v;
      };
      if (want.uncompressed) out.uncompressed = take(8, 'uncompressed size');
      if (want.compressed) out.compressed = take(8, 'compressed size');
      if (want.offset) out.offset = take(8, 'local header offset');
      if (want.disk) out.disk = take(4, 'disk number');
      return out;
    }
    p = dataEnd;
  }
  return null;
}

/** Finds the end-of-central-directory record (and Zip64's) and reads every central entry. */
function readDirectory(b: Uint8Array, fn: string): Directory {
  const len = b.length;
  const notZip = (why: string): never => {
    const npy = len >= 6 && b[0] === 0x93 && b[1] === 0x4e && b[2] === 0x55;
    fail(
      `${fn}: not an .npz (zip) file: ${why}` +
        (npy ? "; this looks like a single .npy array, read it with parseNpy (import { parseNpy } from 'lasagne-webgpu')" : '; the file may be truncated'),
    );
  };
  if (len < EOCD_SIZE) notZip(`${len} bytes is too short for a zip end-of-central-directory record`);
  let eocd = -1;
  for (let p = len - EOCD_SIZE; p >= Math.max(0, len - EOCD_SIZE - MAX_COMMENT); p--) {
    if (b[p] === 0x50 && u32(b, p) === SIG_EOCD && p + EOCD_SIZE + u16(b, p + 20) <= len) {
      eocd = p;
      break;
    }
  }
  if (eocd < 0) notZip('no end-of-central-directory record in the last 65557 bytes');

  let disk = u16(b, eocd + 4);
  let cdDisk = u16(b, eocd + 6);
  let countOnDisk = u16(b, eocd + 8);
  let count = u16(b, eocd + 10);
  let cdSize = u32(b, eocd + 12);
  let cdOffset = u32(b, eocd + 16);
  let cdLimit = eocd;

  const loc = eocd - ZIP64_LOCATOR_SIZE;
  if (loc >= 0 && u32(b, loc) === SIG_ZIP64_LOCATOR) {
    const recordDisk = u32(b, loc + 4);
    const record = u64(b, loc + 8);
    const disks = u32(b, loc + 16);
    if (recordDisk !== 0 || disks > 1) fail(`${fn}: multi-disk (split) zip archives are not supported`);
    if (record + ZIP64_EOCD_SIZE > loc) {
      fail(`${fn}: the Zip64 end-of-central-directory locator points to offset ${record}, outside the ${len}-byte file`);
    }
    if (u32(b, record) !== SIG_ZIP64_EOCD) fail(`${fn}: no Zip64 end-of-central-directory record at offset ${record}`);
    if (u64(b, record + 4) < ZIP64_EOCD_SIZE - 12) fail(`${fn}: corrupt Zip64 end-of-central-directory record (too short)`);
    disk = u32(b, record + 16);
    cdDisk = u32(b, record + 20);
    countOnDisk = u64(b, record + 24);
    count = u64(b, record + 32);
    cdSize = u64(b, record + 40);
    cdOffset = u64(b, record + 48);
    cdLimit = record;
  }
  if (disk !== 0 || cdDisk !== 0 || countOnDisk !== count) {
    fail(`${fn}: multi-disk (split) zip archives are not supported`);
  }
  if (cdOffset + cdSize > cdLimit) {
    fail(`${fn}: the central directory (offset ${cdOffset}, ${cdSize} bytes) runs past its end record at ${cdLimit}; the file is truncated or corrupt`);
  }
  if (count * CENTRAL_SIZE > cdSize) {
    fail(`${fn}: the zip declares ${count} members, but its ${cdSize}-byte central directory can hold at most ${Math.floor(cdSize / CENTRAL_SIZE)}`);
  }

  const entries: Entry[] = [];
  const seen = new Set<string>();
  const cdEnd = cdOffset + cdSize;
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (p + CENTRAL_SIZE > cdEnd || u32(b, p) !== SIG_CENTRAL) {
      fail(`${fn}: corrupt central directory: entry ${i} of ${count} at offset ${p} is missing or has a bad signature`);
    }
    const flags = u16(b, p + 8);
    const nameLen = u16(b, p + 28);
    const extraLen = u16(b, p + 30);
    const commentLen = u16(b, p + 32);
    const next = p + CENTRAL_SIZE + nameLen + extraLen + commentLen;
    if (next > cdEnd) fail(`${fn}: corrupt central directory: entry ${i} runs past the end of the directory`);
    const rawName = b.subarray(p + CENTRAL_SIZE, p + CENTRAL_SIZE + nameLen);
    const name = decodeName(rawName, (flags & 0x800) !== 0, fn);
    const what = show(name);
    if (seen.has(name)) fail(`${fn}: the zip has two members named ${show(name)}`);
    seen.add(name);

    let compressedSize = u32(b, p + 20);
    let uncompressedSize = u32(b, p + 24);
    let diskStart = u16(b, p + 34);
    let localOffset = u32(b, p + 42);
    const want = {
      uncompressed: uncompressedSize === U32_MAX,
      compressed: compressedSize === U32_MAX,
      offset: localOffset === U32_MAX,
      disk: diskStart === 0xffff,
    };
    const extraStart = p + CENTRAL_SIZE + nameLen;
    const z64 = readZip64Extra(b, extraStart, extraStart + extraLen, want, what);
    if (z64 !== null) {
      uncompressedSize = z64.uncompressed ?? uncompressedSize;
      compressedSize = z64.compressed ?? compressedSize;
      localOffset = z64.offset ?? localOffset;
      diskStart = z64.disk ?? diskStart;
    }
    if (diskStart !== 0) fail(`${fn}: multi-disk (split) zip archives are not supported`);
    entries.push({
      name,
      rawName,
      flags,
      method: u16(b, p + 10),
      crc: u32(b, p + 16),
      compressedSize,
      uncompressedSize,
      localOffset,
      dataStart: -1,
    });
    p = next;
  }
  return { entries, dataLimit: cdOffset };
}

/** Reads each local header, sets `dataStart`, and rejects members whose data overlaps (zip bombs). */
function locateData(b: Uint8Array, dir: Directory, fn: string): void {
  for (const e of dir.entries) {
    const what = show(e.name);
    if (e.flags & 0x41) fail(`${what}: the member is encrypted; encrypted .npz files are not supported`);
    if (e.method !== 0 && e.method !== 8) {
      const label = METHOD_NAMES[e.method] ? ` (${METHOD_NAMES[e.method]})` : '';
      fail(`${what}: compression method ${e.method}${label} is not supported; only stored (0, np.savez) and deflated (8, np.savez_compressed) members can be read`);
    }
    const lo = e.localOffset;
    if (lo + LOCAL_SIZE > dir.dataLimit) {
      fail(`${what}: the local header offset ${lo} is past the member data area (${dir.dataLimit} bytes); the file is truncated or corrupt`);
    }
    if (u32(b, lo) !== SIG_LOCAL) fail(`${what}: no local file header at offset ${lo}; the file is corrupt`);
    const flags = u16(b, lo + 6);
    const nameLen = u16(b, lo + 26);
    const extraLen = u16(b, lo + 28);
    const dataStart = lo + LOCAL_SIZE + nameLen + extraLen;
    if (dataStart > dir.dataLimit) fail(`${what}: the local header runs past the member data area; the file is truncated or corrupt`);
    const localName = b.subarray(lo + LOCAL_SIZE, lo + LOCAL_SIZE + nameLen);
    if (localName.length !== e.rawName.length || localName.some((c, i) => c !== e.rawName[i])) {
      fail(`${what}: the local header names a different file (${show(decodeName(localName, (flags & 0x800) !== 0, fn))}); the file is corrupt`);
    }
    if (flags & 0x41) fail(`${what}: the member is encrypted; encrypted .npz files are not supported`);
    if (u16(b, lo + 8) !== e.method) fail(`${what}: the local header and the central directory disagree on the compression method`);
    // Without a data descriptor (bit 3) the local sizes must agree with the central directory.
    if (!(flags & 0x08)) {
      let lc = u32(b, lo + 18);
      let lu = u32(b, lo + 22);
      if (lc === U32_MAX || lu === U32_MAX) {
        const extraStart = lo + LOCAL_SIZE + nameLen;
        const z64 = readZip64Extra(b, extraStart, extraStart + extraLen, { uncompressed: lu === U32_MAX, compressed: lc === U32_MAX, offset: false, disk: false }, what);
        lu = z64?.uncompressed ?? lu;
        lc = z64?.compressed ?? lc;
      }
      if (lc !== e.compressedSize || lu !== e.uncompressedSize) {
        fail(`${what}: the local header declares ${lc} compressed / ${lu} uncompressed bytes, but the central directory ${e.compressedSize} / ${e.uncompressedSize}; the file is corrupt`);
      }
    }
    if (dataStart + e.compressedSize > dir.dataLimit) {
      fail(`${what}: the member declares ${e.compressedSize} bytes of data at offset ${dataStart}, past the member data area (${dir.dataLimit} bytes); the file is truncated or corrupt`);
    }
    // Sizes no stream can have are corruption, reported before any budget is charged.
    if (e.method === 0 && e.compressedSize !== e.uncompressedSize) {
      fail(`${what}: a stored member must have equal sizes, but declares ${e.compressedSize} compressed and ${e.uncompressedSize} uncompressed bytes`);
    }
    if (e.method === 8 && e.uncompressedSize > e.compressedSize * MAX_DEFLATE_RATIO + 1024) {
      fail(`${what}: declares ${e.uncompressedSize} uncompressed bytes, more than deflate can produce from ${e.compressedSize} compressed bytes`);
    }
    e.dataStart = dataStart;
  }
  const sorted = [...dir.entries].sort((x, y) => x.localOffset - y.localOffset);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1];
    if (sorted[i].localOffset < prev.dataStart + prev.compressedSize) {
      fail(`${fn}: members ${show(prev.name)} and ${show(sorted[i].name)} overlap; the file is corrupt (or a zip bomb)`);
    }
  }
}

/**
 * Inflates just enough of a deflated member to read its `.npy` header. Returns the bytes decoded
 * so far and whether they are the whole stream.
 */
function inflateHead(comp: Uint8Array): { head: Uint8Array; complete: boolean } {
  let head = new Uint8Array(0);
  let complete = false;
  const inflater = new Inflate((chunk, final) => {
    const grown = new Uint8Array(head.length + chunk.length);
    grown.set(head);
    grown.set(chunk, head.length);
    head = grown;
    complete = final;
  });
  // Magic, version, then the header length field: uint16 for v1.0, uint32 for v2.0 and v3.0.
  const headerEnd = (): number => (head.length < 12 ? 12 : head[6] === 1 ? 10 + u16(head, 8) : 12 + u32(head, 8));
  for (let off = 0; off < comp.length && !complete; off += PEEK_CHUNK) {
    const end = Math.min(off + PEEK_CHUNK, comp.length);
    inflater.push(comp.subarray(off, end), end === comp.length);
    if (head.length >= headerEnd() || head.length > NPY_PEEK_LIMIT) break;
  }
  return { head, complete };
}

/**
 * The uncompressed `.npy` bytes of one member, with every size and the CRC-32 checked. `charge`
 * is called with the member's `.npy` header before a large inflated buffer is allocated; `charged`
 * says whether it was.
 */
function memberBytes(b: Uint8Array, e: Entry, what: string, charge: (header: NpyHeader) => void): { raw: Uint8Array; charged: boolean } {
  let charged = false;
  const comp = b.subarray(e.dataStart, e.dataStart + e.compressedSize);
  let raw: Uint8Array;
  if (e.method === 0) {
    raw = comp;
  } else {
    if (e.compressedSize < 2) fail(`${what}: empty deflate stream`);
    let head: Uint8Array;
    let complete: boolean;
    try {
      ({ head, complete } = inflateHead(comp));
    } catch (err) {
      fail(`${what}: corrupt deflate data (${(err as Error).message})`);
    }
    if (complete) {
      raw = head;
      if (raw.length !== e.uncompressedSize) {
        fail(`${what}: inflates to ${raw.length} bytes, but the zip directory declares ${e.uncompressedSize}`);
      }
    } else {
      // Check the size the .npy header implies, and charge it, before allocating the declared size
      // (a peek without the whole header is longer than any header allowed: readNpyHeader refuses it).
      const header = readNpyHeader(head, what, e.uncompressedSize);
      if (header.dataOffset + header.dataBytes !== e.uncompressedSize) {
        fail(`${what}: the zip directory declares ${e.uncompressedSize} uncompressed bytes, but the .npy header needs ${header.dataOffset + header.dataBytes}`);
      }
      charge(header);
      charged = true;
      let out: Uint8Array;
      try {
        out = new Uint8Array(e.uncompressedSize + 1); // one spare byte detects a longer stream
      } catch {
        fail(`${what}: cannot allocate ${e.uncompressedSize} bytes for the member`);
      }
      try {
        raw = inflateSync(comp, { out });
      } catch (err) {
        fail(`${what}: corrupt deflate data (${(err as Error).message})`);
      }
      if (raw.length !== e.uncompressedSize) {
        const got = raw.length > e.uncompressedSize ? `more than ${e.uncompressedSize}` : String(raw.length);
        fail(`${what}: inflates to ${got} bytes, but the zip directory declares ${e.uncompressedSize}`);
      }
    }
  }
  const crc = crc32(raw);
  if (crc !== e.crc) fail(`${what}: CRC-32 mismatch (the zip says ${hex(e.crc)}, the data gives ${hex(crc)}); the file is corrupt`);
  return { raw, charged };
}

/**
 * Reads the members in order within a budget of `maxBytes` decoded bytes: first the sizes the zip
 * directory declares, all of them before anything is inflated, then per member, as soon as its
 * `.npy` header is known and before its data is allocated, the larger of its declared size and
 * the float32 array it becomes (integer dtypes widen).
 */
function readMembers(b: Uint8Array, entries: readonly Entry[], fn: string, maxBytes: number): NDArray[] {
  const over = (e: Entry, bytes: number, total: number): never =>
    fail(
      `${fn}: member ${show(e.name)} decodes to ${bytes} bytes, which brings the total to ${total}, more than maxBytes = ${maxBytes}` +
        `${maxBytes === NPZ_MAX_BYTES ? ' (the default, 1 GiB)' : ''}; if you trust the file, pass ${fn}(bytes, { maxBytes: ${total} }) or more`,
    );
  let declared = 0;
  for (const e of entries) {
    declared += e.uncompressedSize;
    if (declared > maxBytes) over(e, e.uncompressedSize, declared);
  }
  let total = 0;
  return entries.map((e) => {
    const what = show(e.name);
    const charge = (header: NpyHeader) => {
      const bytes = Math.max(e.uncompressedSize, 4 * header.size);
      total += bytes;
      if (total > maxBytes) over(e, bytes, total);
    };
    const { raw, charged } = memberBytes(b, e, what, charge);
    if (!charged) charge(readNpyHeader(raw, what));
    return parseNpy(raw, what);
  });
}

export interface LoadNpzOptions {
  /**
   * The most bytes the file may decode to, in all (default {@link NPZ_MAX_BYTES}, 1 GiB): the
   * members' uncompressed `.npy` sizes, or their float32 arrays where larger. Checked from the zip
   * directory and each `.npy` header before anything is inflated or allocated, so a small
   * compressed file cannot ask for gigabytes. A positive integer.
   */
  maxBytes?: number;
}

function maxBytesOf(options: unknown, fn: string): number {
  const opts = checkOptions<LoadNpzOptions>(options, ['maxBytes'], fn);
  const maxBytes = opts.maxBytes ?? NPZ_MAX_BYTES;
  if (typeof maxBytes !== 'number') throw new TypeError(`${fn} option 'maxBytes' must be a number, but got ${typeof maxBytes}`);
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) {
    throw new ValueError(`${fn} option 'maxBytes' must be a positive integer (bytes), but got ${String(maxBytes)}`);
  }
  return maxBytes;
}

function openArchive(bytes: unknown, fn: string): { b: Uint8Array; dir: Directory } {
  const b = toBytes(bytes, fn);
  const dir = readDirectory(b, fn);
  return { b, dir };
}

const POSITIONAL = /^arr_(0|[1-9][0-9]*)\.npy$/;

function listNames(names: string[]): string {
  const shown = names.slice(0, 10).map(show).join(', ');
  return names.length > 10 ? `${shown} and ${names.length - 10} more` : shown;
}

/**
 * Reads the arrays of an `.npz` file written by `np.savez(path, *arrays)` or
 * `np.savez_compressed(path, *arrays)`, in positional order: member `arr_N.npy` becomes element N
 * (numerically: never zip order, which Python 2 made hash order, nor name order, where `arr_10`
 * sorts before `arr_2`). This is Lasagne's `[f['arr_%d' % i] for i in range(len(f.files))]`.
 *
 * Reads stored and deflated members, Zip64 archives (newer numpy forces Zip64 member headers, gh-10776),
 * data descriptors, and `.npy` 1.0/2.0/3.0 with `'<f4'` (bit-exact), `'>f4'`, `'<f8'`, float16,
 * integer and bool dtypes converted to float32, `fortran_order` honoured. Synchronous; every
 * returned array owns a fresh buffer.
 *
 * Memory is bounded: the file may decode to at most `options.maxBytes` bytes in all (default 1 GiB,
 * {@link NPZ_MAX_BYTES}), checked from the zip directory and the `.npy` headers before anything is
 * inflated; each array has at most 2^28 elements; `.npy` headers are at most 10000 bytes.
 *
 * @param bytes the whole file
 * @param options `maxBytes`: the decoded-size cap (see {@link LoadNpzOptions})
 * @returns one float32 NDArray (C order) per member, element N from `arr_N.npy`
 * @throws ValueError naming the member for anything broken or hostile: not a zip, truncation, bad
 *   signatures, sizes or offsets past the end, overlapping members, encryption, compression methods
 *   other than stored/deflated, a CRC-32 mismatch, deflate data that does not inflate to the
 *   declared size, and every `.npy` problem (see {@link parseNpy}: object arrays, unsupported dtypes,
 *   a shape that does not match the data, ...). Also when `arr_N` indices are missing or when a
 *   member is not named `arr_N.npy` (keyword arguments to `np.savez`): read those with
 *   {@link loadNpzMembers}. Also, naming the member, its size and the option, when the file decodes
 *   to more than `maxBytes`.
 * @throws TypeError if `bytes` is not a Uint8Array or ArrayBuffer
 *
 * @example
 * ```ts
 * import { layers, loadNpz } from 'lasagne-webgpu';
 * // Python: np.savez('model.npz', *lasagne.layers.get_all_param_values(network))
 * const response = await fetch('model.npz');
 * const values = loadNpz(new Uint8Array(await response.arrayBuffer()));
 * layers.setAllParamValues(network, values);
 * ```
 */
export function loadNpz(bytes: Uint8Array | ArrayBuffer, options?: LoadNpzOptions): NDArray[] {
  const fn = 'loadNpz';
  const maxBytes = maxBytesOf(options, fn);
  const { b, dir } = openArchive(bytes, fn);
  const others = dir.entries.filter((e) => !POSITIONAL.test(e.name)).map((e) => e.name);
  if (others.length > 0) {
    fail(
      `${fn}: reads positional arrays arr_0.npy, arr_1.npy, ... as written by np.savez(path, *arrays), but this file has ` +
        `member${others.length > 1 ? 's' : ''} ${listNames(others)}; use loadNpzMembers(bytes) to read members by name`,
    );
  }
  const n = dir.entries.length;
  const slots = new Array<Entry | undefined>(n);
  const beyond: string[] = [];
  for (const e of dir.entries) {
    const index = Number(POSITIONAL.exec(e.name)![1]);
    if (index < n) slots[index] = e;
    else beyond.push(e.name);
  }
  if (beyond.length > 0) {
    const missing: string[] = [];
    for (let i = 0; i < n; i++) if (slots[i] === undefined) missing.push(`arr_${i}.npy`);
    fail(`${fn}: the ${n} members must be arr_0.npy ... arr_${n - 1}.npy, but ${listNames(missing)} ${missing.length > 1 ? 'are' : 'is'} missing and ${listNames(beyond)} ${beyond.length > 1 ? 'are' : 'is'} out of range`);
  }
  locateData(b, dir, fn);
  return readMembers(b, slots as Entry[], fn, maxBytes);
}

/**
 * Reads every member of an `.npz` file by name, as `np.load(path)` exposes them: the keys are the
 * member names without `.npy` (`'arr_0'`, or the keyword names of `np.savez(path, W=..., b=...)`),
 * in the order the zip stores them. Same formats and checks as {@link loadNpz}.
 *
 * @param bytes the whole file
 * @param options `maxBytes`: the decoded-size cap, as for {@link loadNpz}
 * @returns a Map from member name (without `.npy`) to a float32 NDArray in C order
 * @throws ValueError naming the member for anything broken or hostile, as {@link loadNpz}, and for two
 *   members whose names are equal without `.npy`
 * @throws TypeError if `bytes` is not a Uint8Array or ArrayBuffer
 *
 * @example
 * ```ts
 * import { layers, loadNpzMembers } from 'lasagne-webgpu';
 * // Python: np.savez('conv1.npz', W=conv1.W.get_value(), b=conv1.b.get_value())
 * const members = loadNpzMembers(new Uint8Array(await (await fetch('conv1.npz')).arrayBuffer()));
 * layers.setAllParamValues(conv1, [members.get('W')!, members.get('b')!]);
 * ```
 */
export function loadNpzMembers(bytes: Uint8Array | ArrayBuffer, options?: LoadNpzOptions): Map<string, NDArray> {
  const fn = 'loadNpzMembers';
  const maxBytes = maxBytesOf(options, fn);
  const { b, dir } = openArchive(bytes, fn);
  const keys = new Map<string, string>();
  for (const e of dir.entries) {
    const key = e.name.endsWith('.npy') ? e.name.slice(0, -4) : e.name;
    const clash = keys.get(key);
    if (clash !== undefined) fail(`${fn}: members ${show(clash)} and ${show(e.name)} both give the key ${show(key)}`);
    keys.set(key, e.name);
  }
  locateData(b, dir, fn);
  const arrays = readMembers(b, dir.entries, fn, maxBytes);
  const out = new Map<string, NDArray>();
  dir.entries.forEach((e, i) => out.set(e.name.endsWith('.npy') ? e.name.slice(0, -4) : e.name, arrays[i]));
  return out;
}

/**
 * Writes arrays as an `.npz` file, byte for byte what `np.savez(path, *arrays)` writes for float32
 * arrays with Python 3's zipfile: stored members `arr_0.npy`, `arr_1.npy`, ... (`.npy` 1.0,
 * `'<f4'`, C order), Zip64 member headers as numpy forces them, timestamps 1980-01-01, CRC-32 set.
 * `np.load` reads it back unchanged, and so does {@link loadNpz}.
 *
 * @param arrays the values in positional order, e.g. `layers.getAllParamValues(network)`
 * @returns the file's bytes
 * @throws ValueError if an element is not a valid NDArray
 * @throws TypeError if `arrays` is not an array
 *
 * @example
 * ```ts
 * import { layers, loadNpz, saveNpz } from 'lasagne-webgpu';
 * const bytes = saveNpz(layers.getAllParamValues(network)); // Python: np.load('model.npz')
 * const url = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
 * // ... later, or in another tab:
 * layers.setAllParamValues(network, loadNpz(new Uint8Array(await (await fetch(url)).arrayBuffer())));
 * ```
 */
export function saveNpz(arrays: readonly NDArray[]): Uint8Array {
  if (!Array.isArray(arrays)) {
    throw new TypeError(`saveNpz expects an array of NDArrays (e.g. layers.getAllParamValues(network)), but got ${arrays === null ? 'null' : typeof arrays}`);
  }
  // (a loop, not map: map skips the holes of a sparse array such as [, a])
  const members: { name: string; data: Uint8Array; crc: number; offset: number }[] = [];
  for (let i = 0; i < arrays.length; i++) {
    const name = `arr_${i}.npy`;
    const data = encodeNpy(asNDArray(arrays[i], `saveNpz: arrays[${i}]`));
    members.push({ name, data, crc: crc32(data), offset: 0 });
  }

  // Local header with a Zip64 extra field (uncompressed, compressed size) as zipfile's force_zip64.
  const localSize = (m: { name: string; data: Uint8Array }) => LOCAL_SIZE + m.name.length + 20 + m.data.length;
  let cdStart = 0;
  for (const m of members) {
    m.offset = cdStart;
    cdStart += localSize(m);
  }
  const centralExtra = members.map((m) => {
    const values: number[] = [];
    if (m.data.length > ZIP64_LIMIT) values.push(m.data.length, m.data.length);
    if (m.offset > ZIP64_LIMIT) values.push(m.offset);
    return values;
  });
  let cdSize = 0;
  members.forEach((m, i) => {
    cdSize += CENTRAL_SIZE + m.name.length + (centralExtra[i].length ? 4 + 8 * centralExtra[i].length : 0);
  });
  const count = members.length;
  const zip64End = count > ZIP_FILECOUNT_LIMIT || cdStart > ZIP64_LIMIT || cdSize > ZIP64_LIMIT;
  const total = cdStart + cdSize + (zip64End ? ZIP64_EOCD_SIZE + ZIP64_LOCATOR_SIZE : 0) + EOCD_SIZE;

  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let p = 0;
  const w16 = (v: number) => {
    view.setUint16(p, v, true);
    p += 2;
  };
  const w32 = (v: number) => {
    view.setUint32(p, v, true);
    p += 4;
  };
  const w64 = (v: number) => {
    view.setUint32(p, v % 0x100000000, true);
    view.setUint32(p + 4, Math.floor(v / 0x100000000), true);
    p += 8;
  };
  const wName = (name: string) => {
    for (let i = 0; i < name.length; i++) out[p++] = name.charCodeAt(i);
  };
  const DOS_TIME = 0;
  const DOS_DATE = (0 << 9) | (1 << 5) | 1; // 1980-01-01, zipfile's default ZipInfo date
  const VERSION = 45; // Zip64

  for (const m of members) {
    w32(SIG_LOCAL);
    w16(VERSION);
    w16(0); // flags
    w16(0); // stored
    w16(DOS_TIME);
    w16(DOS_DATE);
    w32(m.crc);
    w32(U32_MAX);
    w32(U32_MAX);
    w16(m.name.length);
    w16(20);
    wName(m.name);
    w16(ZIP64_EXTRA_ID);
    w16(16);
    w64(m.data.length);
    w64(m.data.length);
    out.set(m.data, p);
    p += m.data.length;
  }
  members.forEach((m, i) => {
    const extra = centralExtra[i];
    const big = m.data.length > ZIP64_LIMIT;
    w32(SIG_CENTRAL);
    w16((3 << 8) | VERSION); // made by Unix, version 4.5
    w16(VERSION);
    w16(0);
    w16(0);
    w16(DOS_TIME);
    w16(DOS_DATE);
    w32(m.crc);
    w32(big ? U32_MAX : m.data.length);
    w32(big ? U32_MAX : m.data.length);
    w16(m.name.length);
    w16(extra.length ? 4 + 8 * extra.length : 0);
    w16(0); // comment
    w16(0); // disk
    w16(0); // internal attributes
    w32(0o600 << 16); // -rw-------
    w32(m.offset > ZIP64_LIMIT ? U32_MAX : m.offset);
    wName(m.name);
    if (extra.length) {
      w16(ZIP64_EXTRA_ID);
      w16(8 * extra.length);
      for (const v of extra) w64(v);
    }
  });
  const cdEnd = p;
  if (zip64End) {
    w32(SIG_ZIP64_EOCD);
    w64(ZIP64_EOCD_SIZE - 12);
    w16(VERSION);
    w16(VERSION);
    w32(0);
    w32(0);
    w64(count);
    w64(count);
    w64(cdSize);
    w64(cdStart);
    w32(SIG_ZIP64_LOCATOR);
    w32(0);
    w64(cdEnd);
    w32(1);
  }
  w32(SIG_EOCD);
  w16(0);
  w16(0);
  w16(Math.min(count, 0xffff));
  w16(Math.min(count, 0xffff));
  w32(Math.min(cdSize, U32_MAX));
  w32(Math.min(cdStart, U32_MAX));
  w16(0);
  return out;
}
