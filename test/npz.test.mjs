import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { constants as zlibConstants, deflateRawSync } from 'node:zlib';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ValueError } from '../dist/errors.js';
import { encodeNpy, parseNpy, readNpyHeader } from '../dist/io/npy.js';
import { NPZ_MAX_BYTES, loadNpz, loadNpzMembers, saveNpz } from '../dist/io/npz.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const expected = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8'));
const fixture = (name) => new Uint8Array(readFileSync(join(FIXTURES, name)));

// ---------------------------------------------------------------- helpers

/** The float32 bits of `a` equal the base64 little-endian float32 bytes of `b64`. */
function assertBits(a, want, label) {
  const w = Buffer.from(want.f32, 'base64');
  assert.equal(a.shape, want.shape, `${label}: shape`);
  assert.ok(a.data instanceof Float32Array, `${label}: Float32Array`);
  const got = Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  if (Buffer.compare(got, w) !== 0) {
    const wf = new Float32Array(new Uint8Array(w).buffer);
    assert.unreachable(`${label}: values differ: got ${Array.from(a.data.slice(0, 8))} want ${Array.from(wf.slice(0, 8))}`);
  }
}

/** Calls fn, which must throw a ValueError (never another class); returns the message. */
function valueError(fn, mentions, label = '') {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof ValueError)) {
      assert.unreachable(`${label} expected ValueError, got ${e && e.constructor && e.constructor.name}: ${e && e.message}`);
    }
    for (const m of [].concat(mentions ?? [])) {
      if (m instanceof RegExp) assert.match(e.message, m, `${label} message ${JSON.stringify(e.message)} should match ${m}`);
      else assert.ok(e.message.includes(m), `${label} message ${JSON.stringify(e.message)} should mention ${m}`);
    }
    return e.message;
  }
  assert.unreachable(`${label} expected a ValueError, but nothing was thrown`);
}

/** Loads or throws ValueError; anything else (RangeError, TypeError, a crash) fails the test. */
function loadsOrValueError(bytes, label) {
  try {
    loadNpzMembers(bytes);
  } catch (e) {
    if (!(e instanceof ValueError)) assert.unreachable(`${label}: ${e && e.constructor && e.constructor.name}: ${e && e.message}`);
  }
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(d) {
  let c = 0xffffffff;
  for (const b of d) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const le16 = (v) => [v & 0xff, (v >>> 8) & 0xff];
const le32 = (v) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
const ascii = (s) => Array.from(s, (c) => c.charCodeAt(0));

/**
 * A plain zip from members { name, data (uncompressed), method = 0 | 8, crc?, flags?, size?,
 * compressedSize?, at? }. `at` makes the central entry point at that offset instead of a local
 * header of its own. Returns the bytes.
 */
function buildZip(members) {
  const out = [];
  const central = [];
  for (const m of members) {
    const stored = m.method === 8 ? Array.from(deflateRawSync(m.data)) : Array.from(m.data);
    const crc = m.crc ?? crc32(m.data);
    const size = m.size ?? m.data.length;
    const csize = m.compressedSize ?? stored.length;
    const flags = m.flags ?? 0;
    const method = m.method ?? 0;
    const offset = m.at ?? out.length;
    if (m.at === undefined) {
      out.push(...le32(0x04034b50), ...le16(20), ...le16(flags), ...le16(method), 0, 0, 0x21, 0,
        ...le32(crc), ...le32(csize), ...le32(size), ...le16(m.name.length), 0, 0, ...ascii(m.name), ...stored);
    }
    central.push(...le32(0x02014b50), ...le16(20), ...le16(20), ...le16(flags), ...le16(method), 0, 0, 0x21, 0,
      ...le32(crc), ...le32(csize), ...le32(size), ...le16(m.name.length), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
      ...le32(offset), ...ascii(m.name));
  }
  const cdOffset = out.length;
  out.push(...central);
  out.push(...le32(0x06054b50), 0, 0, 0, 0, ...le16(members.length), ...le16(members.length),
    ...le32(central.length), ...le32(cdOffset), 0, 0);
  return new Uint8Array(out);
}

/** A v1.0 .npy with the given header text (padded like numpy) and data bytes. */
function npy(header, data = new Uint8Array(0), { major = 1 } = {}) {
  const lenBytes = major === 1 ? 2 : 4;
  const hlen = header.length + 1;
  const pad = (64 - ((8 + lenBytes + hlen) % 64)) % 64;
  const h = header + ' '.repeat(pad) + '\n';
  const len = major === 1 ? le16(h.length) : le32(h.length);
  return new Uint8Array([0x93, ...ascii('NUMPY'), major, 0, ...len, ...ascii(h), ...data]);
}
const f32bytes = (values) => new Uint8Array(new Float32Array(values).buffer);

/** Offsets of the central directory entries and local headers of a valid zip (no Zip64 EOCD). */
function layout(bytes) {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const eocd = bytes.length - 22;
  assert.is(v.getUint32(eocd, true), 0x06054b50);
  const count = v.getUint16(eocd + 10, true);
  let p = v.getUint32(eocd + 16, true);
  const entries = [];
  for (let i = 0; i < count; i++) {
    const nameLen = v.getUint16(p + 28, true);
    const extraLen = v.getUint16(p + 30, true);
    const commentLen = v.getUint16(p + 32, true);
    const local = v.getUint32(p + 42, true);
    const localData = local + 30 + v.getUint16(local + 26, true) + v.getUint16(local + 28, true);
    entries.push({ central: p, local, localData, name: new TextDecoder().decode(bytes.subarray(p + 46, p + 46 + nameLen)) });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return { eocd, cd: v.getUint32(eocd + 16, true), entries, view: v };
}

const small = () => [
  { data: new Float32Array([1, -2, 3.5, 0.25, -0, 6]), shape: [2, 3] },
  { data: new Float32Array([7]), shape: [] },
];

// ---------------------------------------------------------------- fixtures

const fixtures = suite('loadNpz reads what numpy writes');

for (const [file, members] of Object.entries(expected)) {
  fixtures(`${file}: every member has numpy's exact values and shape`, () => {
    const got = loadNpzMembers(fixture(file));
    assert.equal([...got.keys()].sort(), Object.keys(members).sort());
    for (const [name, want] of Object.entries(members)) assertBits(got.get(name), want, `${file} ${name}`);
  });
}

fixtures('positional files come back in arr_N order, arr_10 after arr_9, whatever the zip order', () => {
  for (const file of ['positional_13.npz', 'shuffled.npz', 'compressed.npz', 'dtypes.npz', 'fortran.npz', 'scalar.npz',
    'versions.npz', 'zip64_full.npz', 'descriptor.npz', 'descriptor_compressed.npz', 'savez_ref.npz']) {
    const arrays = loadNpz(fixture(file));
    const names = Object.keys(expected[file]);
    assert.is(arrays.length, names.length, file);
    arrays.forEach((a, i) => assertBits(a, expected[file][`arr_${i}`], `${file} [${i}]`));
  }
  const zipOrder = layout(fixture('shuffled.npz')).entries.map((e) => e.name);
  assert.is(zipOrder[0], 'arr_2.npy');
});

fixtures('the 0-d, empty, float64, big-endian, fortran and v2/v3 members have the expected shapes', () => {
  assert.equal(loadNpz(fixture('scalar.npz')).map((a) => a.shape), [[], [], [0], [2, 0, 3]]);
  assert.equal(loadNpz(fixture('fortran.npz')).map((a) => a.shape), [[2, 3], [2, 3, 4], [2, 3, 4, 5], [3, 2]]);
  const d = loadNpz(fixture('dtypes.npz'));
  assert.is(d[0].data[0], Math.fround(0.1));
  assert.is(d[0].data[3], Infinity);
  assert.is(d[12].data[0], Math.fround(2 ** 64));
  assert.equal(Array.from(d[10].data), [1, 0, 1]);
});

fixtures('loadNpz accepts an ArrayBuffer and a Uint8Array view at an offset', () => {
  const bytes = fixture('savez_ref.npz');
  const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  assert.is(loadNpz(buf).length, 5);
  const padded = new Uint8Array(bytes.length + 3);
  padded.set(bytes, 3);
  loadNpz(padded.subarray(3)).forEach((a, i) => assertBits(a, expected['savez_ref.npz'][`arr_${i}`], `view ${i}`));
});

fixtures('loadNpz refuses keyword members and points to loadNpzMembers', () => {
  valueError(() => loadNpz(fixture('keywords.npz')), ['W.npy', 'b.npy', 'conv1/W.npy', 'loadNpzMembers']);
  valueError(() => loadNpz(fixture('mixed.npz')), ['gamma.npy', 'loadNpzMembers']);
  assert.equal([...loadNpzMembers(fixture('mixed.npz')).keys()], ['gamma', 'arr_0', 'arr_1']);
});

fixtures('the returned arrays own their buffers', () => {
  const bytes = fixture('savez_ref.npz');
  const [a] = loadNpz(bytes);
  assert.is.not(a.data.buffer, bytes.buffer);
  assert.is(a.data.byteOffset, 0);
});

fixtures('a wrong argument type is a TypeError', () => {
  assert.throws(() => loadNpz('model.npz'), (e) => e instanceof TypeError && /Uint8Array or ArrayBuffer/.test(e.message));
  assert.throws(() => loadNpz([1, 2, 3]), (e) => e instanceof TypeError);
  assert.throws(() => saveNpz(new Float32Array(3)), (e) => e instanceof TypeError);
});

fixtures.run();

// ---------------------------------------------------------------- saveNpz

const save = suite('saveNpz');

save('writes np.savez output byte for byte (savez_ref.npz)', () => {
  const ref = fixture('savez_ref.npz');
  const arrays = Object.keys(expected['savez_ref.npz']).map((_, i) => {
    const w = expected['savez_ref.npz'][`arr_${i}`];
    const b = Buffer.from(w.f32, 'base64');
    return { data: new Float32Array(new Uint8Array(b).buffer), shape: w.shape };
  });
  const out = saveNpz(arrays);
  assert.ok(out instanceof Uint8Array);
  assert.is(Buffer.compare(Buffer.from(out), Buffer.from(ref)), 0, 'bytes differ from np.savez');
});

save('loadNpz(saveNpz(arrays)) gives the arrays back, bit for bit', () => {
  const arrays = [
    ...small(),
    { data: new Float32Array([NaN, -Infinity, 1e-45, -0, 3.4028234663852886e38]), shape: [5] },
    { data: new Float32Array(0), shape: [3, 0] },
    { data: Float32Array.from({ length: 2 * 3 * 5 * 5 }, (_, i) => Math.sin(i)), shape: [2, 3, 5, 5] },
  ];
  for (let i = 0; i < 9; i++) arrays.push({ data: new Float32Array([i]), shape: [1] });
  const back = loadNpz(saveNpz(arrays));
  assert.is(back.length, arrays.length);
  back.forEach((a, i) => {
    assert.equal(a.shape, arrays[i].shape);
    assert.equal(new Uint32Array(a.data.buffer), new Uint32Array(arrays[i].data.slice().buffer), `array ${i}`);
  });
  assert.equal(loadNpz(saveNpz([])), []);
});

save('more than 65535 members get a Zip64 end record, as zipfile writes, and read back', () => {
  const arrays = Array.from({ length: 65537 }, (_, i) => ({ data: new Float32Array([i]), shape: [1] }));
  const bytes = saveNpz(arrays);
  const tail = Buffer.from(bytes.subarray(bytes.length - 22 - 20 - 56));
  assert.is(tail.readUInt32LE(0), 0x06064b50, 'Zip64 end record');
  assert.is(tail.readUInt32LE(56), 0x07064b50, 'Zip64 locator');
  assert.is(tail.readUInt16LE(76 + 10), 0xffff, 'end record count saturates');
  const back = loadNpz(bytes);
  assert.is(back.length, 65537);
  assert.is(back[65536].data[0], 65536);
  assert.is(back[10].data[0], 10);
});

save('rejects what is not an NDArray with ValueError', () => {
  valueError(() => saveNpz([{ data: new Float64Array(2), shape: [2] }]), 'arrays[0]');
  valueError(() => saveNpz([small()[0], { data: new Float32Array(5), shape: [2, 3] }]), 'arrays[1]');
});

save('np.load reads a saveNpz file back unchanged (needs python3 with numpy)', () => {
  const probe = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    console.log('  SKIP np.load round trip: python3 with numpy is not available');
    return;
  }
  const arrays = [
    ...small(),
    { data: new Float32Array([NaN, -Infinity, 1e-45, -0]), shape: [2, 2] },
    { data: Float32Array.from({ length: 120 }, (_, i) => i / 7), shape: [2, 3, 4, 5] },
  ];
  for (let i = 0; i < 8; i++) arrays.push({ data: new Float32Array([i, -i]), shape: [2] });
  const dir = mkdtempSync(join(tmpdir(), 'npz-'));
  try {
    const path = join(dir, 'model.npz');
    writeFileSync(path, saveNpz(arrays));
    const script = [
      'import sys, json, base64, numpy as np',
      'with np.load(sys.argv[1]) as f:',
      '    out = [{"name": k, "dtype": f[k].dtype.str, "shape": list(f[k].shape), "c": bool(f[k].flags.c_contiguous),',
      '            "f32": base64.b64encode(f[k].tobytes()).decode()} for k in f.files]',
      'print(json.dumps(out))',
    ].join('\n');
    const r = spawnSync('python3', ['-c', script, path], { encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
    const got = JSON.parse(r.stdout);
    assert.equal(got.map((g) => g.name), arrays.map((_, i) => `arr_${i}`));
    got.forEach((g, i) => {
      assert.is(g.dtype, '<f4');
      assert.ok(g.c);
      assertBits(arrays[i], { shape: g.shape, f32: g.f32 }, `np.load arr_${i}`);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

save.run();

// ---------------------------------------------------------------- npy

const npySuite = suite('parseNpy / encodeNpy / readNpyHeader');

npySuite('encodeNpy pads the header to 64 bytes with a final newline, as numpy', () => {
  for (const shape of [[], [5], [2, 3], [16, 3, 3, 3], [123456789012, 0]]) {
    const out = encodeNpy({ data: new Float32Array(shape.reduce((a, b) => a * b, 1)), shape });
    const hlen = out[8] | (out[9] << 8);
    assert.is((10 + hlen) % 64, 0);
    assert.is(out[9 + hlen], 0x0a);
    assert.is(out[6], 1);
    const h = readNpyHeader(out, 'x');
    assert.equal(h.shape, shape);
    assert.is(h.descr, '<f4');
    assert.is(h.fortranOrder, false);
  }
});

npySuite("headers are read up to numpy's max_header_size (10000 bytes), shapes up to 64 dimensions", () => {
  // numpy refuses longer headers unless told to trust the file; so do we, before decoding them
  const shape = new Array(64).fill(1);
  const back = parseNpy(encodeNpy({ data: new Float32Array([2.5]), shape }), 'deep.npy');
  assert.is(back.shape.length, 64);
  assert.is(back.data[0], 2.5);
  valueError(() => encodeNpy({ data: new Float32Array([2.5]), shape: new Array(23000).fill(1) }), ['at most 64 dimensions', '23000']);
  const padded = (n, major) => npy(`{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }${' '.repeat(n)}`, f32bytes([2.5]), { major });
  assert.is(parseNpy(padded(9800, 2), 'v2.npy').data[0], 2.5);
  valueError(() => parseNpy(padded(10000, 2), 'v2.npy'), ['v2.npy', 'more than the limit of 10000', 'max_header_size']);
  valueError(() => parseNpy(padded(10000, 1), 'v1.npy'), ['v1.npy', 'max_header_size']);
  const huge = new Uint8Array(16);
  huge.set([0x93, ...ascii('NUMPY'), 2, 0, 0, 0, 0, 0x20]); // a v2.0 header length of 540 MB, 16 bytes given
  valueError(() => parseNpy(huge, 'huge.npy'), ['huge.npy', '536870912 bytes', 'max_header_size']);
  valueError(() => parseNpy(npy(`{'descr': '<f4', 'fortran_order': False, 'shape': (${new Array(65).fill(1).join(', ')}), }`, f32bytes([1])), 'r.npy'), ['r.npy', '64 dimensions']);
});

npySuite('header parsing: key order, trailing commas, L suffixes, double quotes, spaces', () => {
  const data = f32bytes([1, 2, 3, 4, 5, 6]);
  for (const h of [
    "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
    "{'shape': (2L, 3L), 'descr': '<f4', 'fortran_order': False}",
    '{"fortran_order":False,"shape":(2,3,),"descr":"<f4",}',
    "{ 'descr' : '<f4' ,\n 'fortran_order' : False , 'shape' : ( 2 , 3 ) }",
  ]) {
    const a = parseNpy(npy(h, data), 'h.npy');
    assert.equal(a.shape, [2, 3], h);
    assert.equal(Array.from(a.data), [1, 2, 3, 4, 5, 6], h);
  }
  assert.equal(parseNpy(npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", data), 'f').data,
    new Float32Array([1, 3, 5, 2, 4, 6]));
  assert.equal(parseNpy(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", data, { major: 3 }), 'v3').shape, [2, 3]);
});

npySuite('bad headers and data are ValueErrors naming the array', () => {
  const six = f32bytes([1, 2, 3, 4, 5, 6]);
  const cases = [
    ["{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", new Uint8Array(16), /object arrays \(pickled data\) are not supported/],
    ["{'descr': '<c8', 'fortran_order': False, 'shape': (3,), }", six, /unsupported dtype '<c8'/],
    ["{'descr': '<U3', 'fortran_order': False, 'shape': (2,), }", new Uint8Array(24), /unsupported dtype '<U3'/],
    ["{'descr': '|f4', 'fortran_order': False, 'shape': (6,), }", six, /byte order/],
    ["{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (6,), }", six, /structured/],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", six, /negative/],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3), }", six, /negative/],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (6), }", six, /not a tuple/],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000, 1000000000), }", six, /needs \d+ data bytes/],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", six, /absurd/],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (9007199254740991, 2), }", six, /needs \d+ data bytes/],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (7,), }", six, /needs 28 data bytes, but the array has 24/],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }", six, /needs 20 data bytes, but the array has 24/],
    ["{'descr': '<f4', 'fortran_order': True, 'shape': (3, 4), }", six, /needs 48 data bytes/],
    ["{'descr': '<f4', 'fortran_order': 0, 'shape': (6,), }", six, /expected a string, True, False/],
    ["{'descr': '<f4', 'shape': (6,), }", six, /exactly the keys/],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (6,), 'x': True}", six, /exactly the keys/],
    ["{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (6,), }", six, /duplicate key/],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (6,), } junk", six, /after the dict/],
    ["{'descr': '<f4', 'fortran_order': __import__('os'), 'shape': (6,), }", six, /cannot parse/],
    ["['descr', '<f4']", six, /expected '\{'/],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (6,)", six, /cannot parse/],
  ];
  for (const [h, data, re] of cases) valueError(() => parseNpy(npy(h, data), 'w.npy'), ['w.npy', re], h);
  valueError(() => parseNpy(new Uint8Array([1, 2, 3]), 'a.npy'), ['a.npy', 'magic']);
  const good = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }", six);
  const v4 = good.slice();
  v4[6] = 4;
  valueError(() => parseNpy(v4, 'a.npy'), ['a.npy', 'version 4.0']);
  const long = good.slice();
  long[8] = 0x10;
  long[9] = 0x27; // 10000 bytes: allowed, but not there
  valueError(() => parseNpy(long, 'a.npy'), ['a.npy', 'past the end']);
  long[8] = 0xff;
  long[9] = 0xff;
  valueError(() => parseNpy(long, 'a.npy'), ['a.npy', 'max_header_size']);
  for (let cut = 0; cut < good.length; cut++) valueError(() => parseNpy(good.subarray(0, cut), 'cut.npy'), 'cut.npy', `cut at ${cut}`);
});

npySuite.run();

// ---------------------------------------------------------------- hostile files

const hostile = suite('hostile or broken .npz files raise ValueError naming the member');

hostile('truncated at every offset', () => {
  for (const bytes of [saveNpz(small()), fixture('savez_ref.npz'), fixture('zip64_full.npz'),
    fixture('descriptor_compressed.npz'), fixture('versions.npz'), fixture('compressed.npz')]) {
    for (let cut = 0; cut < bytes.length; cut++) valueError(() => loadNpz(bytes.subarray(0, cut)), null, `cut at ${cut}`);
  }
});

hostile('a .npy member truncated at every offset inside a valid zip', () => {
  const member = encodeNpy(small()[0]);
  for (let cut = 0; cut < member.length; cut++) {
    const data = member.subarray(0, cut);
    valueError(() => loadNpz(buildZip([{ name: 'arr_0.npy', data }])), 'arr_0.npy', `stored cut ${cut}`);
    valueError(() => loadNpz(buildZip([{ name: 'arr_0.npy', data, method: 8 }])), 'arr_0.npy', `deflated cut ${cut}`);
  }
});

hostile('wrong magic: zip end record, central and local headers, .npy', () => {
  const bytes = saveNpz(small());
  const { eocd, entries } = layout(bytes);
  const flip = (at) => {
    const b = bytes.slice();
    b[at] ^= 0xff;
    return b;
  };
  valueError(() => loadNpz(flip(eocd)), /not an \.npz \(zip\) file/);
  valueError(() => loadNpz(flip(entries[1].central)), /central directory/);
  valueError(() => loadNpz(flip(entries[1].local)), ['arr_1.npy', 'local file header']);
  valueError(() => loadNpz(encodeNpy(small()[0])), 'parseNpy');
  valueError(() => loadNpz(new TextEncoder().encode('PK not really a zip')), /not an \.npz/);
  const badNpy = encodeNpy(small()[0]);
  badNpy[1] = 0x58;
  valueError(() => loadNpz(buildZip([{ name: 'arr_0.npy', data: badNpy }])), ['arr_0.npy', 'magic']);
  valueError(() => loadNpz(buildZip([{ name: 'arr_0.npy', data: badNpy, method: 8 }])), ['arr_0.npy', 'magic']);
  const z = fixture('zip64_full.npz');
  const zflip = (sig) => {
    const b = z.slice();
    b[Buffer.from(b).lastIndexOf(Buffer.from(sig))] ^= 0xff;
    return b;
  };
  valueError(() => loadNpz(zflip([0x50, 0x4b, 0x06, 0x06])), /Zip64 end-of-central-directory record/);
  valueError(() => loadNpz(zflip([0x50, 0x4b, 0x06, 0x07])), /central directory/);
});

hostile('huge sizes and offsets in the central directory and end records', () => {
  const bytes = saveNpz(small());
  const { eocd, entries } = layout(bytes);
  const patch32 = (at, v) => {
    const b = bytes.slice();
    new DataView(b.buffer).setUint32(at, v, true);
    return b;
  };
  const patch16 = (at, v) => {
    const b = bytes.slice();
    new DataView(b.buffer).setUint16(at, v, true);
    return b;
  };
  const e = entries[1];
  valueError(() => loadNpz(patch32(e.central + 20, 0xfffffffe)), 'arr_1.npy', 'compressed size');
  valueError(() => loadNpz(patch32(e.central + 24, 0xfffffffe)), 'arr_1.npy', 'uncompressed size');
  valueError(() => loadNpz(patch32(e.central + 42, 0xfffffff0)), 'arr_1.npy', 'local offset');
  valueError(() => loadNpz(patch32(e.central + 42, 0xffffffff)), 'arr_1.npy', 'zip64 offset without extra');
  valueError(() => loadNpz(patch16(eocd + 8, 0xffff)), /multi-disk|members/);
  valueError(() => loadNpz(patch16(eocd + 10, 0xffff)), /multi-disk|members/);
  const both = patch16(eocd + 8, 0xffff);
  new DataView(both.buffer).setUint16(eocd + 10, 0xffff, true);
  valueError(() => loadNpz(both), /declares 65535 members/);
  valueError(() => loadNpz(patch32(eocd + 12, 0xffffff00)), /central directory/);
  valueError(() => loadNpz(patch32(eocd + 16, 0xffffff00)), /central directory/);
  valueError(() => loadNpz(patch16(e.central + 30, 0xffff)), /central directory/);
  valueError(() => loadNpz(patch16(e.local + 28, 0xfff0)), 'arr_1.npy');
  valueError(() => loadNpz(patch16(e.local + 26, 0xfff0)), 'arr_1.npy');
});

hostile('huge values in Zip64 fields', () => {
  const z = fixture('zip64_full.npz');
  // Central entries of zip64_full carry (uncompressed, compressed, offset) in their extra field.
  const firstCentral = Buffer.from(z).indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
  const extra = firstCentral + 46 + 9 + 4;
  for (const [field, name] of [[0, 'uncompressed'], [8, 'compressed'], [16, 'offset']]) {
    for (const [lo, hi] of [[0xffffffff, 0xffffffff], [0, 0x40000000], [0, 0x200000], [0xfffffff0, 0]]) {
      const b = z.slice();
      const v = new DataView(b.buffer);
      v.setUint32(extra + field, lo, true);
      v.setUint32(extra + field + 4, hi, true);
      valueError(() => loadNpz(b), 'arr_0.npy', `${name} ${hi}:${lo}`);
    }
  }
  const short = z.slice();
  new DataView(short.buffer).setUint16(extra - 2, 16, true); // claims 16 bytes but 3 values are needed
  valueError(() => loadNpz(short), /Zip64 extra field|central directory/);
  const rec = Buffer.from(z).lastIndexOf(Buffer.from([0x50, 0x4b, 0x06, 0x06]));
  for (const at of [24, 32, 40, 48]) {
    const b = z.slice();
    new DataView(b.buffer).setUint32(rec + at + 4, 0x10000000, true);
    valueError(() => loadNpz(b), /central directory|multi-disk/, `zip64 record +${at}`);
  }
  const loc = Buffer.from(z).lastIndexOf(Buffer.from([0x50, 0x4b, 0x06, 0x07]));
  const b = z.slice();
  new DataView(b.buffer).setUint32(loc + 12, 0x7fffffff, true);
  valueError(() => loadNpz(b), /locator points/);
});

hostile('deflated members that lie about their uncompressed size', () => {
  const comp = fixture('compressed.npz');
  const { entries, view } = layout(comp);
  // numpy's local headers carry the sizes in a Zip64 extra (uncompressed first); patch both copies.
  const lie = (e, size) => {
    const b = comp.slice();
    const v = new DataView(b.buffer);
    v.setUint32(e.central + 24, size, true);
    v.setUint32(e.local + 30 + 9 + 4, size, true);
    return b;
  };
  for (const e of entries) {
    const real = view.getUint32(e.central + 24, true);
    valueError(() => loadNpz(lie(e, 0xfffffff0)), [e.name, /more than deflate can produce/]);
    valueError(() => loadNpz(lie(e, real + 64)), [e.name, /declares|inflates/]);
    valueError(() => loadNpz(lie(e, real - 4)), [e.name, /declares|inflates|needs \d+ data bytes/]);
  }
  // arr_1 (8 KB of random floats) is larger than one peek chunk: the .npy header check fires first.
  const big = entries.find((e) => e.name === 'arr_1.npy');
  const real = view.getUint32(big.central + 24, true);
  valueError(() => loadNpz(lie(big, real + 64)), ['arr_1.npy', /\.npy header needs/]);
});

hostile('bad CRC-32', () => {
  const bytes = saveNpz(small());
  const { entries } = layout(bytes);
  const data = bytes.slice();
  data[entries[1].localData + 130] ^= 0x40; // arr_1 is 128 header bytes and one float32
  valueError(() => loadNpz(data), ['arr_1.npy', 'CRC-32']);
  const crc = bytes.slice();
  crc[entries[0].central + 16] ^= 1;
  valueError(() => loadNpz(crc), ['arr_0.npy', 'CRC-32']);
  valueError(() => loadNpz(buildZip([{ name: 'arr_0.npy', data: encodeNpy(small()[0]), method: 8, crc: 1234 }])), ['arr_0.npy', 'CRC-32']);
});

hostile('object dtype, fortran shape mismatch and shape/data mismatch inside a zip', () => {
  const obj = npy("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", new Uint8Array([0x80, 2, 0x4e, 0x2e]));
  valueError(() => loadNpz(buildZip([{ name: 'arr_0.npy', data: encodeNpy(small()[0]) }, { name: 'arr_1.npy', data: obj }])), ['arr_1.npy', 'object arrays (pickled data) are not supported']);
  const fortran = npy("{'descr': '<f4', 'fortran_order': True, 'shape': (3, 4), }", f32bytes(new Array(11).fill(1)));
  valueError(() => loadNpz(buildZip([{ name: 'arr_0.npy', data: fortran, method: 8 }])), ['arr_0.npy', 'needs 48 data bytes']);
  const huge = npy("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", f32bytes([1, 2]));
  valueError(() => loadNpz(buildZip([{ name: 'arr_0.npy', data: huge }])), ['arr_0.npy', 'needs 147573952589676412928 data bytes']);
  valueError(() => loadNpz(buildZip([{ name: 'arr_0.npy', data: huge, method: 8 }])), ['arr_0.npy', 'needs 147573952589676412928 data bytes']);
});

hostile('methods other than stored and deflated, and encryption', () => {
  const data = encodeNpy(small()[0]);
  valueError(() => loadNpz(buildZip([{ name: 'arr_0.npy', data, method: 12 }])), ['arr_0.npy', 'compression method 12 (bzip2)']);
  valueError(() => loadNpz(buildZip([{ name: 'arr_0.npy', data, method: 14 }])), ['arr_0.npy', 'method 14 (lzma)']);
  valueError(() => loadNpz(buildZip([{ name: 'arr_0.npy', data, flags: 1 }])), ['arr_0.npy', 'encrypted']);
  valueError(() => loadNpz(buildZip([{ name: 'arr_0.npy', data, method: 99, flags: 1 }])), ['arr_0.npy', 'encrypted']);
});

hostile('member names: duplicates, gaps, out of range, overlapping data', () => {
  const a = { data: encodeNpy(small()[0]) };
  valueError(() => loadNpz(buildZip([{ name: 'arr_0.npy', ...a }, { name: 'arr_0.npy', ...a }])), /two members named arr_0\.npy/);
  valueError(() => loadNpz(buildZip([{ name: 'arr_0.npy', ...a }, { name: 'arr_2.npy', ...a }])), [/arr_1\.npy is missing/, 'arr_2.npy']);
  valueError(() => loadNpz(buildZip([{ name: 'arr_1.npy', ...a }])), [/arr_0\.npy is missing/]);
  valueError(() => loadNpz(buildZip([{ name: 'arr_00.npy', ...a }])), ['arr_00.npy', 'loadNpzMembers']);
  valueError(() => loadNpzMembers(buildZip([{ name: 'W', ...a }, { name: 'W.npy', ...a }])), /both give the key W/);
  // arr_1's "local header" lies inside arr_0's data: one byte range counted twice.
  const inner = buildZip([{ name: 'arr_1.npy', ...a }]).subarray(0, 30 + 9 + a.data.length);
  const z = buildZip([{ name: 'arr_0.npy', data: inner }, { name: 'arr_1.npy', ...a, at: 30 + 9 }]);
  valueError(() => loadNpz(z), /overlap/);
});

hostile('every single-byte corruption loads or raises ValueError, nothing else', () => {
  for (const bytes of [saveNpz(small()), fixture('descriptor_compressed.npz'), fixture('zip64_full.npz'), fixture('versions.npz')]) {
    for (let i = 0; i < bytes.length; i++) {
      for (const x of [0xff, 0x01, 0x80]) {
        const b = bytes.slice();
        b[i] ^= x;
        loadsOrValueError(b, `byte ${i} ^ ${x}`);
      }
    }
  }
});

hostile('random multi-byte corruption of a compressed file loads or raises ValueError', () => {
  const bytes = fixture('compressed.npz');
  let seed = 12345;
  const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  for (let iter = 0; iter < 1500; iter++) {
    const b = bytes.slice();
    const n = 1 + Math.floor(rand() * 4);
    for (let k = 0; k < n; k++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
    loadsOrValueError(b, `iteration ${iter}`);
  }
});

hostile.run();

// ---------------------------------------------------------------- bounded memory (issue 15, item 2)

const caps = suite('loadNpz maxBytes: the decoded size is capped before anything is inflated');

/** A zip of one member from raw parts: its deflated (or stored) bytes, declared size and CRC. */
function oneMemberZip(name, comp, size, crc, method) {
  const n = ascii(name);
  const local = [...le32(0x04034b50), ...le16(20), 0, 0, ...le16(method), 0, 0, 0x21, 0, ...le32(crc), ...le32(comp.length), ...le32(size), ...le16(n.length), 0, 0, ...n];
  const central = [...le32(0x02014b50), ...le16(20), ...le16(20), 0, 0, ...le16(method), 0, 0, 0x21, 0, ...le32(crc), ...le32(comp.length), ...le32(size),
    ...le16(n.length), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, ...le32(0), ...n];
  const cdOffset = local.length + comp.length;
  const eocd = [...le32(0x06054b50), 0, 0, 0, 0, 1, 0, 1, 0, ...le32(central.length), ...le32(cdOffset), 0, 0];
  const out = new Uint8Array(cdOffset + central.length + eocd.length);
  out.set(local, 0);
  out.set(comp, local.length);
  out.set(central, cdOffset);
  out.set(eocd, cdOffset + central.length);
  return out;
}

/**
 * A real deflate stream of a float32 .npy of `mib` MiB of zeros, about 1 KB per MiB: the header,
 * then one sync-flushed block of 1 MiB of zeros repeated (each starts with a literal 0 and then
 * copies at distance 1, valid after any zero byte), then an empty final block.
 */
function zeroBomb(mib) {
  const header = npy(`{'descr': '<f4', 'fortran_order': False, 'shape': (${mib * 2 ** 18},), }`);
  const sync = { finishFlush: zlibConstants.Z_SYNC_FLUSH };
  const head = deflateRawSync(header, sync);
  const block = deflateRawSync(new Uint8Array(2 ** 20), sync);
  const comp = new Uint8Array(head.length + mib * block.length + 2);
  comp.set(head, 0);
  for (let i = 0; i < mib; i++) comp.set(block, head.length + i * block.length);
  comp.set([0x03, 0x00], comp.length - 2); // final fixed-Huffman block with only end-of-block
  // the CRC of header + zeros, computed without building them
  let c = 0xffffffff;
  for (const b of header) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  for (let i = 0; i < mib * 2 ** 20; i++) c = CRC_TABLE[c & 0xff] ^ (c >>> 8);
  const crc = (c ^ 0xffffffff) >>> 0;
  return { bytes: oneMemberZip('arr_0.npy', comp, header.length + mib * 2 ** 20, crc, 8), size: header.length + mib * 2 ** 20 };
}

caps('a 1 MB file of 2^30 deflated zeros is refused by the default cap before it is inflated', () => {
  // (the CRC of 1 GiB of zeros is a slow loop here: the bomb is checked against a forged CRC, which is never reached)
  const header = npy(`{'descr': '<f4', 'fortran_order': False, 'shape': (${2 ** 28},), }`);
  const sync = { finishFlush: zlibConstants.Z_SYNC_FLUSH };
  const head = deflateRawSync(header, sync);
  const block = deflateRawSync(new Uint8Array(2 ** 20), sync);
  const comp = new Uint8Array(head.length + 1024 * block.length + 2);
  comp.set(head, 0);
  for (let i = 0; i < 1024; i++) comp.set(block, head.length + i * block.length);
  comp.set([0x03, 0x00], comp.length - 2);
  const size = header.length + 2 ** 30;
  const bomb = oneMemberZip('arr_0.npy', comp, size, 0, 8);
  assert.ok(bomb.length < 1.2e6, `the bomb is ${bomb.length} bytes`);
  const before = process.memoryUsage().rss;
  for (const load of [(b) => loadNpz(b), (b) => loadNpzMembers(b)]) {
    valueError(() => load(bomb), ['arr_0.npy', String(size), 'maxBytes = 1073741824', 'the default, 1 GiB', 'maxBytes:']);
  }
  assert.ok(process.memoryUsage().rss - before < 64 * 2 ** 20, 'nothing large was allocated');
  assert.is(NPZ_MAX_BYTES, 2 ** 30);
});

caps('within maxBytes a deflated file loads; one byte less refuses it, naming the member, its size and the option', () => {
  const { bytes, size } = zeroBomb(4);
  const a = loadNpz(bytes, { maxBytes: size });
  assert.equal(a[0].shape, [2 ** 20]);
  assert.ok(a[0].data.every((v) => v === 0));
  valueError(() => loadNpz(bytes, { maxBytes: size - 1 }), ['arr_0.npy', `decodes to ${size} bytes`, `maxBytes = ${size - 1}`]);
  assert.is(loadNpzMembers(bytes, { maxBytes: size }).get('arr_0').data.length, 2 ** 20);
});

caps('integer dtypes are charged as the float32 arrays they become, from the header, before inflating', () => {
  const n = 200000;
  const u1 = npy(`{'descr': '|u1', 'fortran_order': False, 'shape': (${n},), }`, new Uint8Array(n).fill(7));
  for (const method of [0, 8]) {
    const zip = oneMemberZip('arr_0.npy', method === 8 ? deflateRawSync(u1) : u1, u1.length, crc32(u1), method);
    assert.is(loadNpz(zip, { maxBytes: 4 * n })[0].data[5], 7, `method ${method}`);
    valueError(() => loadNpz(zip, { maxBytes: 4 * n - 1 }), ['arr_0.npy', `decodes to ${4 * n} bytes`], `method ${method}`);
  }
});

caps('the total over members is capped, and maxBytes must be a positive integer in a plain options object', () => {
  const m = (i) => ({ name: `arr_${i}.npy`, data: npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1000,), }", f32bytes(new Array(1000).fill(1))) });
  const zip = buildZip([m(0), m(1), m(2)]);
  const one = m(0).data.length;
  assert.is(loadNpz(zip, { maxBytes: 3 * one }).length, 3);
  valueError(() => loadNpz(zip, { maxBytes: 3 * one - 1 }), ['arr_2.npy', `total to ${3 * one}`]);
  for (const bad of [0, -1, 1.5, NaN, Infinity]) valueError(() => loadNpz(zip, { maxBytes: bad }), ["'maxBytes'", 'positive integer']);
  assert.throws(() => loadNpz(zip, { maxBytes: '100' }), (e) => e instanceof TypeError && /maxBytes/.test(e.message));
  assert.throws(() => loadNpz(zip, { maxbytes: 100 }), (e) => e instanceof TypeError && /did you mean 'maxBytes'/.test(e.message));
  assert.throws(() => loadNpz(zip, new Map([['maxBytes', 1]])), (e) => e instanceof TypeError && /a Map/.test(e.message));
});

caps('parseNpy, readNpyHeader and encodeNpy are exported, as the error for a bare .npy advises', async () => {
  const lasagne = await import('lasagne-webgpu');
  const bare = encodeNpy({ data: new Float32Array([1, 2]), shape: [2] });
  const msg = valueError(() => loadNpz(bare), ['parseNpy']);
  assert.match(msg, /import \{ parseNpy \} from 'lasagne-webgpu'/);
  assert.equal(Array.from(lasagne.parseNpy(bare, 'x.npy').data), [1, 2]);
  assert.is(lasagne.readNpyHeader(bare, 'x.npy').descr, '<f4');
  assert.is(typeof lasagne.encodeNpy, 'function');
  assert.is(lasagne.NPY_MAX_HEADER_SIZE, 10000);
  assert.is(lasagne.MAX_ELEMENTS, 2 ** 28);
});

caps("a list shape is reported as a bad shape, not as a structured dtype; more than 2^28 elements is refused", () => {
  const msg = valueError(() => parseNpy(npy("{'descr': '<f4', 'fortran_order': False, 'shape': [4], }", f32bytes([1, 2, 3, 4])), 'l.npy'), ['l.npy', "'shape'"]);
  assert.not.match(msg, /structured/);
  valueError(() => parseNpy(npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", f32bytes([1])), 's.npy'), ['s.npy', 'structured']);
  valueError(() => readNpyHeader(npy(`{'descr': '|u1', 'fortran_order': False, 'shape': (${2 ** 28 + 1},), }`), 'big.npy', 2 ** 29), ['big.npy', 'limit of 2^28']);
});

caps.run();
