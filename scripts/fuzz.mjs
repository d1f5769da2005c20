// Fuzzes what a hostile or careless user can hand the package: weight files (.npz/.npy bytes,
// mutated, truncated, with lying sizes and headers, deflate bombs) and layer, initializer,
// nonlinearity, plan, compile, DenseLayer, DropoutLayer, update and compileTraining options and
// trainer.step inputs (random values of every type, prototype pollution).
// Every case must end in a result or a LasagneError/TypeError: any other exception, a case over
// 1 s, or a peak RSS above the documented caps (1 GiB decoded per file, 2^28 elements per
// tensor, plus the process's own baseline) fails the run. Not part of CI by default; `npm test`
// runs a short seeded run (test/fuzz.test.mjs).
//
//   node scripts/fuzz.mjs [--cases 100000] [--seed 1] [--seconds 1800] [--case-ms 1000] [--json]
//
// The cases run in a worker thread; this thread watches it: a case still running after
// KILL_AFTER_MS is a hang (the worker is terminated and the case reported with its seed), and RSS
// is sampled every 50 ms. Output: a summary (cases per kind, outcomes per error class, the slowest
// case, peak RSS) and the failures, each with what reproduces it (`--seed S --from I --cases 1`).
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { deflateRawSync, constants as zlibConstants } from 'node:zlib';

const KILL_AFTER_MS = 10000;
/** The documented caps (loadNpz maxBytes default, one tensor of 2^28 float32) and room for the process. */
const RSS_ALLOWANCE = 2 ** 30 + 2 ** 28;

function parseArgs(argv) {
  // case-ms: the longest a case may take (1 s; npm test's short run allows more on a loaded machine)
  const args = { cases: 100000, seed: 1, seconds: 1800, from: 0, caseMs: 1000, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') args.json = true;
    else if (a === '--case-ms') args.caseMs = Number(argv[++i]);
    else if (['--cases', '--seed', '--seconds', '--from'].includes(a)) args[a.slice(2)] = Number(argv[++i]);
    else throw new Error(`unknown argument ${a}; usage: node scripts/fuzz.mjs [--cases N] [--seed S] [--seconds T] [--from I] [--case-ms MS] [--json]`);
  }
  for (const k of ['cases', 'seed', 'seconds', 'from', 'caseMs']) {
    if (!Number.isSafeInteger(args[k]) || args[k] < 0) throw new Error(`--${k === 'caseMs' ? 'case-ms' : k} must be a non-negative integer, but got ${args[k]}`);
  }
  return args;
}

// ------------------------------------------------------------------------------------ main thread

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const progress = new Int32Array(new SharedArrayBuffer(8)); // [case index being run, cases done]
  progress[0] = -1;
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const worker = new Worker(fileURLToPath(import.meta.url), { workerData: { ...args, progress } });
  let lastIndex = -2;
  let lastChange = Date.now();
  let hang = null;
  const watch = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
    const i = Atomics.load(progress, 0);
    if (i !== lastIndex) {
      lastIndex = i;
      lastChange = Date.now();
    } else if (i >= 0 && Date.now() - lastChange > KILL_AFTER_MS) {
      hang = { index: i, ms: Date.now() - lastChange };
      void worker.terminate();
    }
  }, 50);
  // Failures arrive as they happen, so a worker that dies (or is killed) loses none of them.
  const failures = [];
  const summary = await new Promise((resolve) => {
    let result = null;
    worker.on('message', (m) => (m.failure ? failures.push(m.failure) : (result = m)));
    worker.on('error', (e) => resolve({ cases: Atomics.load(progress, 1), crashed: String(e && e.stack ? e.stack : e) }));
    worker.on('exit', (code) => resolve(result ?? { cases: Atomics.load(progress, 1), crashed: `the worker exited with code ${code} after ${Atomics.load(progress, 1)} cases` }));
  });
  clearInterval(watch);
  peak = Math.max(peak, process.memoryUsage().rss);
  if (hang !== null) failures.push({ index: hang.index, kind: 'hang', error: `no progress for ${hang.ms} ms`, repro: `--seed ${args.seed} --from ${hang.index} --cases 1` });
  if (summary.crashed) failures.push({ kind: 'crash', error: summary.crashed });
  const rss = { baselineMiB: +(baseline / 2 ** 20).toFixed(1), peakMiB: +(peak / 2 ** 20).toFixed(1), allowanceMiB: RSS_ALLOWANCE / 2 ** 20 };
  if (peak - baseline > RSS_ALLOWANCE) failures.push({ kind: 'memory', error: `peak RSS ${rss.peakMiB} MiB is more than the baseline ${rss.baselineMiB} MiB + ${rss.allowanceMiB} MiB` });
  const report = { seed: args.seed, from: args.from, requested: args.cases, ...summary, rss, failures };
  delete report.crashed;
  if (args.json) {
    console.log(JSON.stringify(report));
  } else {
    console.log(`fuzz: ${report.cases ?? 0} cases (seed ${args.seed}) in ${((report.ms ?? 0) / 1000).toFixed(1)} s`);
    console.log(`  kinds: ${JSON.stringify(report.kinds ?? {})}`);
    console.log(`  outcomes: ${JSON.stringify(report.outcomes ?? {})}`);
    console.log(`  slowest case: ${JSON.stringify(report.slowest ?? null)}`);
    console.log(`  RSS: baseline ${rss.baselineMiB} MiB, peak ${rss.peakMiB} MiB (allowance ${rss.allowanceMiB} MiB above baseline)`);
    console.log(`  ${failures.length} failures`);
    for (const f of failures.slice(0, 20)) console.log(`  FAIL ${JSON.stringify(f)}`);
  }
  process.exit(failures.length === 0 && (report.cases ?? 0) > 0 ? 0 : 1);
}

// ------------------------------------------------------------------------------------ worker

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CRC_TABLE = Int32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});
function crc32(d) {
  let c = -1;
  for (let i = 0; i < d.length; i++) c = CRC_TABLE[(c ^ d[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

const le16 = (v) => [v & 0xff, (v >>> 8) & 0xff];
const le32 = (v) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
const ascii = (s) => Array.from(s, (c) => c.charCodeAt(0) & 0xff);

function concat(parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A zip of members { name, comp (stored bytes), size, crc, method }. */
function zip(members) {
  const locals = [];
  const central = [];
  let offset = 0;
  for (const m of members) {
    const n = ascii(m.name);
    const local = Uint8Array.from([...le32(0x04034b50), ...le16(20), 0, 0, ...le16(m.method), 0, 0, 0x21, 0, ...le32(m.crc), ...le32(m.comp.length), ...le32(m.size), ...le16(n.length), 0, 0, ...n]);
    central.push(Uint8Array.from([...le32(0x02014b50), ...le16(20), ...le16(20), 0, 0, ...le16(m.method), 0, 0, 0x21, 0, ...le32(m.crc), ...le32(m.comp.length), ...le32(m.size),
      ...le16(n.length), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, ...le32(offset), ...n]));
    locals.push(local, m.comp);
    offset += local.length + m.comp.length;
  }
  const cd = concat(central);
  const eocd = Uint8Array.from([...le32(0x06054b50), 0, 0, 0, 0, ...le16(members.length), ...le16(members.length), ...le32(cd.length), ...le32(offset), 0, 0]);
  return concat([...locals, cd, eocd]);
}

/** A .npy (v1, or v2/v3 when asked) with the given header text and data bytes. */
function npy(header, data, major = 1) {
  const lenBytes = major === 1 ? 2 : 4;
  const pad = (64 - ((8 + lenBytes + header.length + 1) % 64)) % 64;
  const h = header + ' '.repeat(pad) + '\n';
  return concat([Uint8Array.from([0x93, ...ascii('NUMPY'), major, 0, ...(major === 1 ? le16(h.length) : le32(h.length)), ...ascii(h)]), data]);
}

function member(name, raw, deflate) {
  return deflate
    ? { name, comp: deflateRawSync(raw), size: raw.length, crc: crc32(raw), method: 8 }
    : { name, comp: raw, size: raw.length, crc: crc32(raw), method: 0 };
}

async function runWorker() {
  const { cases, seed, seconds, from, caseMs, progress } = workerData;
  const root = fileURLToPath(new URL('..', import.meta.url));
  const lasagne = await import(new URL('../dist/index.js', import.meta.url));
  const cc = await import(new URL('../dist/layers/cuda_convnet.js', import.meta.url));
  const { LasagneError } = lasagne.errors;
  const { InputLayer } = lasagne.layers;
  const nl = lasagne.nonlinearities;
  const init = lasagne.init;

  // Seed files: the repository's fixtures and files written here, stored and deflated.
  const seeds = [];
  const fixtures = `${root}test/fixtures/`;
  try {
    for (const f of readdirSync(fixtures)) if (f.endsWith('.npz')) seeds.push(new Uint8Array(readFileSync(fixtures + f)));
  } catch {
    // (a checkout without test fixtures: the generated seeds remain)
  }
  const setupRand = mulberry32(seed ^ 0x5eed);
  const randArray = (shape) => ({ data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => setupRand() * 2 - 1), shape });
  seeds.push(lasagne.saveNpz([randArray([16, 3, 3, 3]), randArray([16]), randArray([10, 16])]));
  const npys = [randArray([4, 5]), randArray([7]), randArray([])].map((a) => lasagne.encodeNpy(a));
  seeds.push(zip(npys.map((b, i) => member(`arr_${i}.npy`, b, true))));
  seeds.push(zip(npys.map((b, i) => member(`arr_${i}.npy`, b, i % 2 === 0))));

  // one sync-flushed deflate block of 1 MiB of zeros: a literal 0, then copies at distance 1 (valid after any zero byte)
  const ZERO_MIB = deflateRawSync(new Uint8Array(2 ** 20), { finishFlush: zlibConstants.Z_SYNC_FLUSH });
  const counts = { kinds: {}, outcomes: {} };
  const failures = { push: (failure) => parentPort.postMessage({ failure }) };
  let slowest = { ms: 0 };
  const started = Date.now();
  let done = 0;

  for (let index = from; index < from + cases; index++) {
    if (Date.now() - started > seconds * 1000) break;
    const r = mulberry32((seed * 0x9e3779b1 + index * 0x85ebca77) >>> 0);
    const int = (n) => Math.floor(r() * n);
    const pick = (xs) => xs[int(xs.length)];

    // ---------------- values a careless or hostile caller passes
    // Sizes are small (what a real layer of a test network needs) or each alone beyond the element
    // limit (2^28): a request that is legal and large (up to 1 GiB) takes as long as it takes to
    // fill, which is not what a case looks for.
    const NUMBERS = [0, 1, 2, 3, 4, 5, -1, 16, 32, 48, 1.5, NaN, Infinity, -Infinity, 2 ** 28 + 1, 2 ** 31, 2 ** 32, 2 ** 40, 2 ** 53, -0, Number.MAX_VALUE, 1e-300];
    const dim = () => pick([null, 1, 2, 3, 4, 5, 8, 11, 16, 0, -1, 1.5, 2 ** 28 + 1, 2 ** 31, 'a', undefined]);
    const shape = () => Array.from({ length: pick([0, 1, 2, 3, 4, 4, 4, 4, 5, 70]) }, dim);
    const goodShape = () => [pick([null, 1, 2, 4]), pick([1, 3, 4, 16, 32]), pick([4, 5, 8, 11]), pick([4, 5, 8, 11])];
    const ndarrayLike = () => {
      const s = Array.from({ length: int(4) }, () => pick([1, 2, 3, 4, 16]));
      const n = s.reduce((a, b) => a * b, 1);
      const kind = int(6);
      if (kind === 0) return { data: new Float32Array(n).fill(pick(NUMBERS)), shape: s };
      if (kind === 1) return { data: new Float32Array(n + pick([1, -1])), shape: s };
      if (kind === 2) return { data: new Float64Array(n), shape: s };
      if (kind === 3) return { data: Array.from({ length: n }, () => 1), shape: s };
      if (kind === 4) return { data: new Float32Array(1), shape: [2 ** 31, 0] };
      return { data: new Float32Array(n), shape: s.map((d) => (r() < 0.2 ? -d : d)) };
    };
    const value = (depth = 0) => {
      const k = int(16);
      if (k < 5) return pick(NUMBERS);
      if (k === 5) return pick(['same', 'full', 'valid', 'relu', '', 'x', '2', 'untie_biases', '__proto__']);
      if (k === 6) return pick([null, undefined, true, false]);
      if (k === 7) return depth > 1 ? [] : Array.from({ length: int(4) }, () => value(depth + 1));
      if (k === 8) return pick([nl.rectify, nl.identity, nl.tanh, nl.softmax, new nl.LeakyRectify({ leakiness: 0.2 }), (x) => x]);
      if (k === 9) return pick([new init.Constant({ val: 0.1 }), new init.GlorotUniform(), new init.HeNormal(), new init.Normal(), new init.Orthogonal()]);
      if (k === 10) return ndarrayLike();
      if (k === 11) return pick([new Map([['pad', 1]]), new Date(0), Object.create(null), { __proto__: { pad: 1 } }, Symbol('s'), 10n, new Float32Array(4)]);
      if (k === 12) return depth > 1 ? {} : options([], depth + 1);
      if (k === 13) return [pick([1, 2, 3]), pick([1, 2, 3, 'a', null])];
      if (k === 14) return int(64);
      return pick([1, 2, 3, 16]);
    };
    const options = (valid, depth = 0) => {
      const k = int(10);
      if (k === 0) return undefined;
      if (k === 1) return value(depth + 1);
      const o = {};
      const n = int(4);
      for (let i = 0; i < n; i++) {
        const key = r() < 0.85 && valid.length > 0 ? pick(valid) : pick(['untie_biases', 'Pad', 'bogus', 'constructor', 'toString', 'flip_filters', 'batch_size']);
        o[key] = value(depth + 1);
      }
      return o;
    };
    const incoming = () => {
      const k = int(8);
      if (k === 0) return shape();
      if (k === 1) return value();
      if (k < 5) return new InputLayer(goodShape());
      try {
        return new cc.Conv2DCCLayer(new InputLayer(goodShape()), 16, pick([1, 3]), { pad: pick([0, 1, 'same']) });
      } catch {
        return new InputLayer(goodShape());
      }
    };
    const DENSE = ['W', 'b', 'nonlinearity', 'numLeadingAxes', 'name'];
    const DROPOUT = ['p', 'rescale', 'sharedAxes', 'name'];
    const HYPERS = ['learningRate', 'momentum', 'rho', 'beta1', 'beta2', 'epsilon'];
    const TRAINING = ['loss', 'aggregate', 'updates', 'regularization', 'batchSize', 'backend', 'threads', 'inputGradient'];
    const CONV = ['stride', 'pad', 'untieBiases', 'W', 'b', 'nonlinearity', 'dimshuffle', 'flipFilters', 'partialSum', 'numGroups', 'name'];
    const POOL = ['stride', 'ignoreBorder', 'dimshuffle', 'pad', 'name'];
    const NIN = ['untieBiases', 'W', 'b', 'nonlinearity', 'name'];
    const PLAN = ['batchSize', 'inputShapes', 'alignment', 'training', 'elide'];
    const COMPILE = ['backend', 'batchSize', 'device', 'deterministic', 'threads', 'profile'];

    // ---------------- weight files
    const mutate = (bytes) => {
      const b = bytes.slice();
      const n = 1 + int(8);
      for (let i = 0; i < n; i++) b[int(b.length)] = int(256);
      return b;
    };
    const patchField = (bytes) => {
      const b = bytes.slice();
      const at = int(Math.max(1, b.length - 4));
      const v = pick([0, 1, 0xffff, 0xffffffff, 0x7fffffff, 0x80000000, b.length, b.length + 1, b.length - 1, 2 ** 30, 0xfffffff0]);
      const field = int(2) ? le32(v) : le16(v);
      b.set(field.slice(0, b.length - at), at);
      return b;
    };
    const randomHeader = () => {
      const descr = pick(["'<f4'", "'>f4'", "'<f8'", "'|u1'", "'<i8'", "'|O'", "'<U4'", "[('a', '<f4')]", "'f4'", "''", '1', "'<f16'"]);
      const dims = Array.from({ length: int(5) }, () => pick(['1', '4', '0', '-1', '2**31', '99999999999999999999', '1L', 'None', "'a'", '(1,)']));
      const shapeText = pick([`(${dims.join(', ')}${dims.length === 1 ? ',' : ''})`, `[${dims.join(', ')}]`, '()', '(5)', 'None', '{}']);
      const parts = [`'descr': ${descr}`, `'fortran_order': ${pick(['False', 'True', '0', "'no'"])}`, `'shape': ${shapeText}`];
      if (r() < 0.1) parts.push(`'extra': ${pick(['1', "'x'", '(1,)'])}`);
      if (r() < 0.1) parts.splice(int(parts.length), 1);
      const text = `{${parts.join(', ')}${pick([', }', '}', ',}', ''])}`;
      return r() < 0.05 ? text + ' '.repeat(pick([100, 10000, 70000])) : text;
    };
    const fileCase = () => {
      const k = int(7);
      if (k === 0) return mutate(pick(seeds));
      if (k === 1) {
        const s = pick(seeds);
        return r() < 0.5 ? s.subarray(0, int(s.length)) : s.subarray(int(s.length));
      }
      if (k === 2) return patchField(pick(seeds));
      if (k === 3) {
        const raw = npy(randomHeader(), new Uint8Array(int(64)).fill(int(256)), pick([1, 1, 2, 3]));
        return zip([member('arr_0.npy', raw, r() < 0.5)]);
      }
      if (k === 4) {
        // a deflate stream of zeros that may lie about its size and shape
        const mib = pick([0, 1, 2]);
        const elements = pick([mib * 2 ** 18, 2 ** 28, 2 ** 30, 16]);
        const header = npy(`{'descr': '<f4', 'fortran_order': False, 'shape': (${elements},), }`, new Uint8Array(0));
        const blocks = [deflateRawSync(header, { finishFlush: zlibConstants.Z_SYNC_FLUSH })];
        for (let i = 0; i < mib; i++) blocks.push(ZERO_MIB);
        blocks.push(Uint8Array.of(0x03, 0x00));
        const comp = concat(blocks);
        const size = pick([header.length + mib * 2 ** 20, header.length + 4 * elements, 0xffffffff, comp.length * 1032]);
        return zip([{ name: 'arr_0.npy', comp, size: size >>> 0, crc: int(2 ** 32), method: 8 }]);
      }
      if (k === 5) return mutate(npys[int(npys.length)]);
      const n = int(4);
      return zip(Array.from({ length: n }, (_, i) => member(pick([`arr_${i}.npy`, `arr_${i + 1}.npy`, 'W.npy', `arr_0${i}.npy`]), npy(randomHeader(), new Uint8Array(int(32))), r() < 0.3)));
    };
    const loadOptions = () => (r() < 0.7 ? undefined : r() < 0.7 ? { maxBytes: pick([1, 100, 4096, 2 ** 20, 2 ** 30, 0, -1, 1.5, NaN, '1', 2 ** 53]) } : value());

    // Each kind makes its arguments (untimed) and returns the call to time.
    const kinds = [
      ['loadNpz', () => {
        const [bytes, opts] = [fileCase(), loadOptions()];
        return () => lasagne.loadNpz(bytes, opts);
      }],
      ['loadNpzMembers', () => {
        const [bytes, opts] = [fileCase(), loadOptions()];
        return () => lasagne.loadNpzMembers(bytes, opts);
      }],
      ['parseNpy', () => {
        const bytes = r() < 0.5 ? mutate(pick(npys)) : npy(randomHeader(), new Uint8Array(int(40)));
        return () => lasagne.parseNpy(bytes, 'fuzz.npy');
      }],
      ['saveNpz', () => {
        const arrays = r() < 0.3 ? value() : Array.from({ length: int(4) }, () => (r() < 0.5 ? ndarrayLike() : value()));
        return () => lasagne.saveNpz(arrays);
      }],
      ['Conv2DCCLayer', () => {
        const args = [incoming(), pick([16, 32, 16, 20, 0, -16, 2 ** 28 + 16, 2 ** 31, 1.5, NaN, '16', null]), pick([1, 3, 5, [3, 3], [3, 5], 0, -1, 2 ** 28 + 1, 'a', null]), options(CONV)];
        return () => new cc.Conv2DCCLayer(...args);
      }],
      ['MaxPool2DCCLayer', () => {
        const args = [incoming(), pick([1, 2, 3, [2, 2], [2, 3], 0, -1, 2 ** 31, 'a', null, 1.5]), options(POOL)];
        return () => new cc.MaxPool2DCCLayer(...args);
      }],
      ['NINLayer_c01b', () => {
        const args = [incoming(), pick([1, 4, 10, 0, -1, 2 ** 28 + 1, 2 ** 31, 2 ** 53, 1.5, NaN, '4']), options(NIN)];
        return () => new cc.NINLayer_c01b(...args);
      }],
      ['shuffle', () => {
        const [S, args] = [pick([cc.ShuffleBC01ToC01BLayer, cc.ShuffleC01BToBC01Layer]), [incoming(), options(['name'])]];
        return () => new S(...args);
      }],
      ['InputLayer', () => {
        const args = [r() < 0.5 ? shape() : value(), options(['name'])];
        return () => new InputLayer(...args);
      }],
      ['init', () => {
        const I = pick([init.Constant, init.Normal, init.Uniform, init.GlorotUniform, init.GlorotNormal, init.HeUniform, init.HeNormal, init.Orthogonal, init.Sparse]);
        const opts = options(['val', 'std', 'mean', 'range', 'gain', 'c01b', 'sparsity']);
        const dims = r() < 0.5 ? shape() : [pick([1, 2, 16, 2 ** 15]), pick([1, 3, 2 ** 14 + 1, 2 ** 31])];
        return () => new I(opts).sample(dims);
      }],
      ['nonlinearity', () => {
        const [N, opts] = [pick([nl.LeakyRectify, nl.ScaledTanH, nl.SELU]), options(['leakiness', 'scaleIn', 'scaleOut', 'scale', 'scaleNeg'])];
        return () => new N(opts);
      }],
      ['plan', () => {
        const l = incoming();
        const [pool, dimshuffle, opts] = [r() < 0.9 && l instanceof lasagne.layers.Layer, r() < 0.5, options(PLAN)];
        return () => lasagne.plan(pool ? new cc.MaxPool2DCCLayer(l, pick([1, 2]), { dimshuffle }) : l, opts);
      }],
      ['params', () => {
        const l = new cc.Conv2DCCLayer(new InputLayer([2, 3, 6, 6]), 16, 3);
        const [one, v] = [r() < 0.5, r() < 0.5 ? ndarrayLike() : value()];
        const list = r() < 0.5 ? [ndarrayLike(), ndarrayLike()] : value();
        return () => {
          if (one) l.W.setValue(v);
          else lasagne.setAllParamValues(l, list);
          return lasagne.countParams(l);
        };
      }],
      ['prototype', () => {
        const [key, v, opts] = [pick(['pad', 'stride', 'name', 'W', 'b', 'nonlinearity', 'batchSize', 'alignment', 'maxBytes', 'dimshuffle']), value(), r() < 0.5 ? {} : undefined];
        return () => {
          Object.prototype[key] = v;
          try {
            const l = new cc.Conv2DCCLayer(new InputLayer([2, 16, 6, 6]), 16, 3, opts);
            if (l.pad[0] !== 0 || l.stride[0] !== 1 || l.name !== null) throw new Error(`Object.prototype.${key} changed a layer`);
            lasagne.plan(l, {});
            lasagne.loadNpz(seeds[seeds.length - 1], {});
          } finally {
            delete Object.prototype[key];
          }
        };
      }],
      ['DenseLayer', () => {
        const args = [incoming(), pick([1, 3, 10, 0, -1, 2 ** 28 + 1, 2 ** 31, 1.5, NaN, '10', null]), options(DENSE)];
        return () => new lasagne.layers.DenseLayer(...args);
      }],
      ['DropoutLayer', () => {
        const args = [incoming(), options(DROPOUT)];
        return () => new lasagne.layers.DropoutLayer(...args);
      }],
      ['updates', () => {
        const u = lasagne.updates;
        const [fn, opts] = [pick([u.sgd, u.momentum, u.nesterovMomentum, u.adagrad, u.rmsprop, u.adadelta, u.adam, u.adamax]), options(HYPERS)];
        return () => fn(opts);
      }],
      // (the rare kinds, last: they compile)
      ['training', () => {
        const net = new lasagne.layers.DenseLayer(new cc.MaxPool2DCCLayer(new InputLayer([2, 16, 6, 6]), 2), 3, { nonlinearity: pick([nl.softmax, nl.softmax, nl.rectify, nl.sigmoid, nl.identity]) });
        const opts = r() < 0.7 ? { backend: 'wasm', updates: lasagne.updates.sgd({ learningRate: 0.1 }), ...(r() < 0.5 ? options(TRAINING) : {}) } : (options(TRAINING) ?? {});
        // WASM only, as compile below
        if (opts !== null && typeof opts === 'object' && [undefined, 'auto', 'webgpu'].includes(opts.backend)) opts.backend = 'wasm';
        const x = r() < 0.5 ? { data: new Float32Array(2 * 16 * 36), shape: [2, 16, 6, 6] } : ndarrayLike();
        const t = r() < 0.5 ? Int32Array.of(0, 2) : r() < 0.5 ? pick([Int32Array.of(0, 3), Int32Array.of(-1, 0), Int32Array.of(0), new Float32Array(6)]) : value();
        return async () => {
          const trainer = await lasagne.compileTraining(net, opts);
          try {
            return await trainer.step(x, t);
          } finally {
            trainer.dispose();
          }
        };
      }],
      ['compile', () => {
        const l = r() < 0.8 ? new cc.MaxPool2DCCLayer(new InputLayer([2, 16, 6, 6]), 2) : incoming();
        const opts = r() < 0.8 ? { backend: 'wasm', threads: 1, ...(r() < 0.5 ? options(COMPILE) : {}) } : (options(COMPILE) ?? {});
        // WASM only: a GPU (or SwiftShader) compiles pipelines for seconds, which is not a hang
        if (opts !== null && typeof opts === 'object' && [undefined, 'auto', 'webgpu'].includes(opts.backend)) opts.backend = 'wasm';
        const x = r() < 0.5 ? { data: new Float32Array(2 * 16 * 36), shape: [2, 16, 6, 6] } : ndarrayLike();
        return async () => {
          const net = await lasagne.compile(l, opts);
          try {
            return await net.run(x);
          } finally {
            net.dispose();
          }
        };
      }],
    ];
    // compile and training cases (the last two) are rarer: they are the slow ones
    const [kind, prepare] = r() < 0.01 ? kinds[kinds.length - 1 - int(2)] : kinds[int(kinds.length - 2)];
    let fn;
    try {
      fn = prepare();
    } catch (e) {
      // (the generators build layers only with arguments that work)
      failures.push({ index, kind, error: `the case generator failed: ${e && e.message}`, repro: `--seed ${seed} --from ${index} --cases 1` });
      continue;
    }
    counts.kinds[kind] = (counts.kinds[kind] ?? 0) + 1;
    Atomics.store(progress, 0, index);
    const t0 = performance.now();
    let outcome = 'ok';
    try {
      await fn();
    } catch (e) {
      if (e instanceof LasagneError || e instanceof TypeError) {
        outcome = e.constructor.name;
      } else {
        outcome = 'other';
        failures.push({ index, kind, error: `${e && e.constructor ? e.constructor.name : typeof e}: ${e && e.message}`.slice(0, 300), repro: `--seed ${seed} --from ${index} --cases 1` });
      }
    }
    const ms = performance.now() - t0;
    if (ms > slowest.ms) slowest = { ms: +ms.toFixed(1), index, kind };
    if (ms > caseMs) failures.push({ index, kind, error: `took ${ms.toFixed(0)} ms (limit ${caseMs})`, repro: `--seed ${seed} --from ${index} --cases 1` });
    counts.outcomes[outcome] = (counts.outcomes[outcome] ?? 0) + 1;
    done++;
    Atomics.store(progress, 1, done);
  }
  parentPort.postMessage({ cases: done, ms: Date.now() - started, kinds: counts.kinds, outcomes: counts.outcomes, slowest });
}

if (isMainThread) await main();
else await runWorker();
