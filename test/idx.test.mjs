import { existsSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as lasagne from '../dist/index.js';
import { ValueError } from '../dist/errors.js';
import { loadIdx } from '../dist/io/idx.js';

// ---------------------------------------------------------------- helpers

const TYPE_BYTE = { uint8: 0x08, int8: 0x09, int16: 0x0b, int32: 0x0c, float32: 0x0d, float64: 0x0e };
const SIZE = { uint8: 1, int8: 1, int16: 2, int32: 4, float32: 4, float64: 8 };
const ARRAY = { uint8: Uint8Array, int8: Int8Array, int16: Int16Array, int32: Int32Array, float32: Float32Array, float64: Float64Array };

/** An IDX file written independently of the parser: header, then big-endian elements. */
function idxBytes(dtype, shape, values) {
  const n = shape.reduce((a, b) => a * b, 1);
  const b = Buffer.alloc(4 + 4 * shape.length + n * SIZE[dtype]);
  b[2] = TYPE_BYTE[dtype];
  b[3] = shape.length;
  shape.forEach((d, i) => b.writeUInt32BE(d, 4 + 4 * i));
  const at = 4 + 4 * shape.length;
  const write = {
    uint8: (v, o) => b.writeUInt8(v, o),
    int8: (v, o) => b.writeInt8(v, o),
    int16: (v, o) => b.writeInt16BE(v, o),
    int32: (v, o) => b.writeInt32BE(v, o),
    float32: (v, o) => b.writeFloatBE(v, o),
    float64: (v, o) => b.writeDoubleBE(v, o),
  }[dtype];
  for (let i = 0; i < n; i++) write(values[i], at + i * SIZE[dtype]);
  return new Uint8Array(b);
}

/** Values that exercise every byte of each type: signs, extremes, fractions. */
function sampleValues(dtype, n) {
  const pick = {
    uint8: (i) => (i * 37 + 11) % 256,
    int8: (i) => ((i * 37 + 11) % 256) - 128,
    int16: (i) => ((i * 7919 + 13) % 65536) - 32768,
    int32: (i) => ((i * 2654435761) % 4294967296) - 2147483648,
    float32: (i) => Math.fround((i - n / 2) * 1.2345e-3 + (i % 3 === 0 ? -1e30 : 0)),
    float64: (i) => (i - n / 2) * Math.PI * 1e-7 + (i % 5 === 0 ? 1e300 : 0),
  }[dtype];
  return Array.from({ length: n }, (_, i) => pick(i));
}

/** fn must throw a ValueError whose message contains every string in `mentions`; returns the message. */
function valueError(fn, mentions, label = '') {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof ValueError)) assert.unreachable(`${label} expected ValueError, got ${e?.constructor?.name}: ${e?.message}`);
    for (const m of [].concat(mentions)) {
      if (m instanceof RegExp) assert.match(e.message, m, `${label} ${JSON.stringify(e.message)} should match ${m}`);
      else assert.ok(e.message.includes(m), `${label} ${JSON.stringify(e.message)} should mention ${JSON.stringify(m)}`);
    }
    return e.message;
  }
  assert.unreachable(`${label} expected a ValueError, but nothing was thrown`);
}

const gz = (bytes) => new Uint8Array(gzipSync(bytes));
const concat = (...parts) => new Uint8Array(Buffer.concat(parts.map((p) => Buffer.from(p))));

// ---------------------------------------------------------------- reading

const reading = suite('loadIdx reads every IDX type, plain and gzip');

for (const dtype of Object.keys(TYPE_BYTE)) {
  reading(`a ${dtype} file gives the same shape and every value, big-endian converted, plain and gzipped`, () => {
    const shape = [3, 4, 5];
    const values = sampleValues(dtype, 60);
    const file = idxBytes(dtype, shape, values);
    for (const [how, bytes] of [['plain', file], ['gzip', gz(file)]]) {
      const a = loadIdx(bytes);
      assert.is(a.dtype, dtype, how);
      assert.equal(a.shape, shape, how);
      assert.ok(a.data instanceof ARRAY[dtype], `${how}: ${a.data.constructor.name}`);
      assert.equal(Array.from(a.data), values, how);
    }
  });
}

reading('the package exports loadIdx, and an ArrayBuffer or a Buffer are read like a Uint8Array', () => {
  assert.is(lasagne.loadIdx, loadIdx);
  const file = idxBytes('int16', [2, 2], [1, -2, 300, -32768]);
  assert.equal(Array.from(loadIdx(file.slice().buffer).data), [1, -2, 300, -32768]);
  assert.equal(Array.from(loadIdx(Buffer.from(gz(file))).data), [1, -2, 300, -32768]);
});

reading('1-d labels and an empty array (a zero dimension) are read', () => {
  const labels = loadIdx(gz(idxBytes('uint8', [6], [9, 0, 0, 3, 0, 2])));
  assert.equal(labels.shape, [6]);
  assert.equal(Array.from(labels.data), [9, 0, 0, 3, 0, 2]);
  const empty = loadIdx(idxBytes('float32', [0, 28, 28], []));
  assert.equal(empty.shape, [0, 28, 28]);
  assert.is(empty.data.length, 0);
});

reading('the result does not alias the caller\'s bytes', () => {
  const file = idxBytes('uint8', [4], [1, 2, 3, 4]);
  const a = loadIdx(file);
  file[8] = 99;
  assert.is(a.data[0], 1);
});

reading('a gzip of several concatenated members (as `cat a.gz b.gz`) is read whole', () => {
  const file = idxBytes('int32', [5, 7], sampleValues('int32', 35));
  const cut = 21; // inside the data, not on an element boundary
  const a = loadIdx(concat(gz(file.subarray(0, 3)), gz(file.subarray(3, cut)), gz(file.subarray(cut))));
  assert.equal(Array.from(a.data), sampleValues('int32', 35));
});

reading('the gzip path reads a file larger than one inflate chunk', () => {
  const n = 300000;
  const values = Array.from({ length: n }, (_, i) => (i * 7 + (i >> 9)) & 255);
  const a = loadIdx(gz(idxBytes('uint8', [n], values)));
  assert.is(a.data.length, n);
  for (let i = 0; i < n; i += 997) assert.is(a.data[i], values[i], `element ${i}`);
  assert.is(a.data[n - 1], values[n - 1]);
});

reading.run();

// ---------------------------------------------------------------- refusing

const refusing = suite('loadIdx refuses broken and hostile files with a ValueError naming the file, the rule and the value');

refusing('a wrong magic number: names the bytes found', () => {
  const file = idxBytes('uint8', [2], [1, 2]);
  file[1] = 1;
  valueError(() => loadIdx(file, { name: 'x.idx' }), ['x.idx', 'two zero bytes', '0x00 0x01']);
  valueError(() => loadIdx(new Uint8Array([0x50, 0x4b, 3, 4, 0, 0, 0, 0])), ['bytes', '0x50 0x4b', 'ZIP']);
  valueError(() => loadIdx(gz(gz(file))), ['gzip inside the gzip']);
});

refusing('an unknown type byte and zero dimensions', () => {
  const file = idxBytes('uint8', [2], [1, 2]);
  file[2] = 0x0a;
  valueError(() => loadIdx(file, { name: 'f' }), ['type byte', '0x0a', 'f']);
  valueError(() => loadIdx(gz(file), { name: 'f.gz' }), ['type byte', '0x0a', 'f.gz']);
  valueError(() => loadIdx(new Uint8Array([0, 0, 8, 0, 1])), ['at least 1 dimension', 'declares 0']);
});

refusing('every truncation of a plain or gzipped file is a ValueError, never another error', () => {
  const file = idxBytes('float32', [2, 3], sampleValues('float32', 6));
  const packed = gz(file);
  for (const [how, whole] of [['plain', file], ['gzip', packed]]) {
    for (let n = 0; n < whole.length; n++) {
      valueError(() => loadIdx(whole.subarray(0, n), { name: `cut-${n}` }), [`cut-${n}`], `${how} cut at ${n}:`);
    }
  }
  valueError(() => loadIdx(file.subarray(0, 10)), ['12-byte header', '1 dimensions'.replace('1', '2'), 'has 10 bytes']);
  valueError(() => loadIdx(file.subarray(0, file.length - 1)), ['(2, 3)', '24 bytes', 'the file has 23']);
  // a gzip cut in the middle of its deflate stream says so, rather than only that its CRC differs
  const noisy = gz(idxBytes('uint8', [4000], sampleValues('int16', 4000).map((v) => (v * 31) & 255)));
  valueError(() => loadIdx(noisy.subarray(0, noisy.length >> 1), { name: 'half.gz' }), ['half.gz', /truncated/]);
});

refusing('bytes after the data: plain and gzipped', () => {
  const file = concat(idxBytes('uint8', [3], [1, 2, 3]), [7]);
  valueError(() => loadIdx(file, { name: 'long' }), ['long', '1 bytes after the 3', '(3,)']);
  valueError(() => loadIdx(gz(file), { name: 'long.gz' }), ['long.gz', 'more than the 3 bytes']);
});

refusing('an absurd shape is refused before anything is allocated from it', () => {
  const huge = new Uint8Array(4 + 12);
  huge.set([0, 0, 0x0e, 3]);
  new DataView(huge.buffer).setUint32(4, 0xffffffff);
  new DataView(huge.buffer).setUint32(8, 0xffffffff);
  new DataView(huge.buffer).setUint32(12, 0xffffffff);
  valueError(() => loadIdx(huge, { name: 'huge' }), ['huge', '(4294967295, 4294967295, 4294967295)', 'float64']);
  // gzipped, the bound is what the compressed bytes can expand to (1032:1), not the declared size
  const big = new Uint8Array(4 + 4);
  big.set([0, 0, 8, 1]);
  new DataView(big.buffer).setUint32(4, 2e9);
  const packed = gz(big);
  valueError(() => loadIdx(packed, { name: 'big.gz' }), ['big.gz', '2000000000 bytes', `expands to at most ${1032 * packed.length}`]);
});

refusing('a gzip whose CRC-32 or length does not match its data (corrupt) is refused', () => {
  const file = idxBytes('uint8', [4, 4], sampleValues('uint8', 16));
  const packed = gz(file);
  const badCrc = packed.slice();
  badCrc[packed.length - 8] ^= 1;
  valueError(() => loadIdx(badCrc, { name: 'crc.gz' }), ['crc.gz', 'CRC-32', 'member 0']);
  const badSize = packed.slice();
  badSize[packed.length - 4] ^= 1;
  valueError(() => loadIdx(badSize, { name: 'len.gz' }), ['len.gz', 'length', 'member 0']);
  const twoMembers = concat(gz(file.subarray(0, 9)), gz(file.subarray(9)));
  const badSecond = twoMembers.slice();
  badSecond[twoMembers.length - 7] ^= 0x40;
  valueError(() => loadIdx(badSecond, { name: 'two.gz' }), ['two.gz', 'member 1']);
});

refusing('every single flipped bit of a small gzip gives the same array or a ValueError, never another error', () => {
  const file = idxBytes('int16', [3, 2], sampleValues('int16', 6));
  const packed = gz(file);
  const want = Array.from(loadIdx(packed).data);
  for (let i = 0; i < packed.length * 8; i++) {
    const bad = packed.slice();
    bad[i >> 3] ^= 1 << (i & 7);
    try {
      const a = loadIdx(bad);
      // Bits gzip does not check (the header's mtime, OS and flags of optional fields) may flip freely.
      assert.equal(Array.from(a.data), want, `bit ${i}`);
    } catch (e) {
      if (!(e instanceof ValueError)) assert.unreachable(`bit ${i}: ${e?.constructor?.name}: ${e?.message}`);
    }
  }
});

refusing('a gzip that decompresses to fewer than 4 bytes, and one with garbage after its member', () => {
  valueError(() => loadIdx(gz(new Uint8Array([0, 0])), { name: 'tiny.gz' }), ['tiny.gz', 'decompresses to 2']);
  const file = idxBytes('uint8', [2], [5, 6]);
  valueError(() => loadIdx(concat(gz(file), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]), { name: 'junk.gz' }), ['junk.gz']);
});

refusing('wrong argument types are TypeErrors that say what is expected', () => {
  assert.throws(() => loadIdx(new Float32Array(4)), (e) => e instanceof TypeError && /Uint8Array or ArrayBuffer/.test(e.message));
  assert.throws(() => loadIdx('file.idx'), (e) => e instanceof TypeError);
  const file = idxBytes('uint8', [1], [1]);
  assert.throws(() => loadIdx(file, { nmae: 'x' }), (e) => e instanceof TypeError && /did you mean 'name'/.test(e.message));
  assert.throws(() => loadIdx(file, { name: 3 }), (e) => e instanceof TypeError && /name/.test(e.message));
});

refusing.run();

// ---------------------------------------------------------------- the real files

const DIR = '/usr/share/datasets/fashion-mnist';
const real = suite('loadIdx reads the installed Fashion-MNIST files (Debian dataset-fashion-mnist)');
const present = existsSync(`${DIR}/t10k-labels-idx1-ubyte.gz`) && existsSync(`${DIR}/t10k-images-idx3-ubyte.gz`);
if (!present) {
  real(`skipped: ${DIR} is not installed (apt-get install dataset-fashion-mnist)`, () => console.log(`  SKIP: ${DIR} missing`));
} else {
  real('the test set: 10000 uint8 images of 28 x 28 and 10000 labels, 1000 of each class 0-9', () => {
    const images = loadIdx(readFileSync(`${DIR}/t10k-images-idx3-ubyte.gz`), { name: 't10k-images' });
    const labels = loadIdx(readFileSync(`${DIR}/t10k-labels-idx1-ubyte.gz`), { name: 't10k-labels' });
    assert.is(images.dtype, 'uint8');
    assert.equal(images.shape, [10000, 28, 28]);
    assert.is(labels.dtype, 'uint8');
    assert.equal(labels.shape, [10000]);
    const counts = new Array(10).fill(0);
    for (const l of labels.data) counts[l]++;
    assert.equal(counts, new Array(10).fill(1000));
    // The first test image is an ankle boot (9), as in the dataset's README; pixels span 0-255.
    assert.is(labels.data[0], 9);
    let max = 0;
    for (let i = 0; i < 784; i++) max = Math.max(max, images.data[i]);
    assert.ok(max > 200, `max pixel of image 0: ${max}`);
  });
}
real.run();
