// Benchmark (not a test): our WASM backend against tfjs-backend-wasm (XNNPACK, SIMD) in the same
// process, on the CPU rows of ../shared/reference/performance.md: C1, C2, C3 (batch 32), L4, L5
// (batch 8) and NET (the CIFAR-10 net, batch 32); first one thread each, then all threads.
//
// Each side runs in its native layout with the same weights: ours c01b (Conv2DCCLayer with
// dimshuffle: false, so no transposes), tfjs NHWC; conv + bias + rectify fused in both. NET is
// bc01 in and out on both sides (ours transposes once in and once out, tfjs likewise). A "run" is
// end to end: a Float32Array in, a Float32Array out (ours: network.run(); tfjs: tensor4d, the ops,
// dataSync). Runs alternate between the two sides (the machine's speed drifts); after warm-up
// runs the table shows the minimum (steadiest on a shared VM) and the median. Before timing, the
// two outputs are compared (max |difference| relative to max |value|), so both compute the same.
//
//   node scripts/bench_wasm.mjs [--reps 15] [--threads N] [--only C1,L5] [--extra] [--plain-only]
//
// Ours is timed with both builds of the kernels in the same process, alternating with tfjs: plain
// (WebAssembly SIMD, build/kernels.wasm) and relaxed (f32x4.relaxed_madd, build/kernels_relaxed.wasm;
// where this Node does not validate it, the script runs itself again under
// --experimental-wasm-relaxed-simd; --plain-only skips it).
//
// --extra adds rows with batch sizes that are not multiples of 4 (our other micro-kernel): C2 and
// L5 at batch 1 and 30, NET at batch 1.
//
// tfjs is not a dependency of the package: install it with
//   npm install --no-save @tensorflow/tfjs-core@4.22.0 @tensorflow/tfjs-backend-wasm@4.22.0
// or point TFJS_DIR at a folder whose node_modules has both. Without it, only our times print.
// tfjs-backend-wasm cannot use threads in Node (its threaded build needs a cross-origin-isolated
// browser), so its "all threads" column is one thread; ours splits the batch over worker threads.
import { createRequire } from 'node:module';
import { availableParallelism, cpus } from 'node:os';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as lasagne from 'lasagne-webgpu';
import { Conv2DCCLayer } from 'lasagne-webgpu/layers/cuda_convnet';
import { spawnSync } from 'node:child_process';
import { KERNELS_RELAXED_WASM_BYTES, KERNELS_WASM_BYTES, relaxedSimdSupported, setWasmSimd } from '../dist/backend/wasm/index.js';

const argv = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i < 0 ? fallback : argv[i + 1];
};
const REPS = Number(arg('reps', 15));
const WARMUP = 3;
const ALL_THREADS = Number(arg('threads', availableParallelism()));
const ONLY = arg('only', null)?.split(',');
const PLAIN_ONLY = argv.includes('--plain-only');

// Node 20 validates the relaxed-SIMD kernels only with --experimental-wasm-relaxed-simd: run again with it
// (so plain, relaxed and tfjs are timed in one process), unless --plain-only or the flag is already there.
if (!PLAIN_ONLY && !relaxedSimdSupported() && !process.execArgv.includes('--experimental-wasm-relaxed-simd')) {
  const r = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', ...process.execArgv, process.argv[1], ...argv], { stdio: 'inherit' });
  if (r.status === 0 || r.status === null) process.exit(r.status ?? 1);
  console.log('(this Node cannot run with --experimental-wasm-relaxed-simd: timing the plain SIMD build only)');
}

const CASES = [
  { id: 'C1', C: 3, H: 32, F: 32, k: 5, pad: 2, B: 32 },
  { id: 'C2', C: 32, H: 16, F: 32, k: 5, pad: 2, B: 32 },
  { id: 'C3', C: 32, H: 8, F: 64, k: 5, pad: 2, B: 32 },
  { id: 'L4', C: 128, H: 16, F: 128, k: 7, pad: 0, B: 8 },
  { id: 'L5', C: 384, H: 13, F: 384, k: 3, pad: 0, B: 8 },
  { id: 'NET', B: 32 },
  ...(argv.includes('--extra')
    ? [
        { id: 'C2/b1', C: 32, H: 16, F: 32, k: 5, pad: 2, B: 1 },
        { id: 'C2/b30', C: 32, H: 16, F: 32, k: 5, pad: 2, B: 30 },
        { id: 'L5/b1', C: 384, H: 13, F: 384, k: 3, pad: 0, B: 1 },
        { id: 'L5/b30', C: 384, H: 13, F: 384, k: 3, pad: 0, B: 30 },
        { id: 'NET/b1', B: 1 },
      ]
    : []),
].filter((c) => !ONLY || ONLY.includes(c.id));

async function loadTfjs() {
  const attempts = [];
  const roots = [process.env.TFJS_DIR, process.cwd()].filter(Boolean);
  for (const root of roots) {
    try {
      const require = createRequire(join(root, 'package.json'));
      const core = await import(pathToFileURL(require.resolve('@tensorflow/tfjs-core')).href);
      const wasm = await import(pathToFileURL(require.resolve('@tensorflow/tfjs-backend-wasm')).href);
      const simdPath = require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm');
      const tf = core.default ?? core;
      const tfw = wasm.default ?? wasm;
      tfw.setWasmPaths(dirname(simdPath) + '/');
      tfw.setThreadsCount(1);
      await tf.setBackend('wasm');
      await tf.ready();
      if (!tf.env().getBool('WASM_HAS_SIMD_SUPPORT')) throw new Error('tfjs-backend-wasm reports no SIMD support');
      const version = JSON.parse(readFileSync(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'), 'utf8')).version;
      return { tf, version, simdBytes: readFileSync(simdPath).length };
    } catch (e) {
      attempts.push(`${root}: ${e.message.split('\n')[0]}`);
    }
  }
  console.log(`tfjs-backend-wasm not found (${attempts.join('; ')}); printing our times only`);
  return null;
}

const rand = (n, seed) => {
  let a = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
  });
};

/** HWCF filter for tfjs from a kernel-layout (C, k, k, F) correlation weight. */
function hwcf(ckkf, C, k, F) {
  const out = new Float32Array(ckkf.length);
  for (let c = 0; c < C; c++) for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) for (let f = 0; f < F; f++)
    out[((i * k + j) * C + c) * F + f] = ckkf[((c * k + i) * k + j) * F + f];
  return out;
}

/** (C, k, k, F) correlation weight of a Conv2DCCLayer (flipping (F, C, k, k) when flipFilters). */
function correlationWeights(layer) {
  const w = layer.W.getValue();
  const [C, k, F] = layer.dimshuffle ? [w.shape[1], w.shape[2], w.shape[0]] : [w.shape[0], w.shape[1], w.shape[3]];
  const out = new Float32Array(w.data.length);
  for (let c = 0; c < C; c++) for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) for (let f = 0; f < F; f++) {
    const si = layer.flipFilters ? k - 1 - i : i;
    const sj = layer.flipFilters ? k - 1 - j : j;
    out[((c * k + i) * k + j) * F + f] = layer.dimshuffle ? w.data[((f * C + c) * k + si) * k + sj] : w.data[((c * k + si) * k + sj) * F + f];
  }
  return { data: out, C, k, F };
}

/** One benchmark row: our network and the tfjs graph, same weights; returns run functions. */
function buildCase(c, tfjs) {
  if (!c.id.startsWith('NET')) {
    const { C, H, F, k, pad, B } = c;
    const layer = new Conv2DCCLayer(new lasagne.layers.InputLayer([C, H, H, B]), F, k, {
      pad, dimshuffle: false, flipFilters: false, nonlinearity: lasagne.nonlinearities.rectify,
      W: lasagne.ndarray(rand(C * k * k * F, 1).map((v) => v * 0.2), [C, k, k, F]),
      b: lasagne.ndarray(rand(F, 2), [F]),
    });
    const x = rand(C * H * H * B, 3);
    // c01b (C, H, W, B) -> NHWC for tfjs
    const nhwc = new Float32Array(x.length);
    for (let ch = 0; ch < C; ch++) for (let y = 0; y < H; y++) for (let xx = 0; xx < H; xx++) for (let b = 0; b < B; b++)
      nhwc[((b * H + y) * H + xx) * C + ch] = x[((ch * H + y) * H + xx) * B + b];
    const out = H + 2 * pad - k + 1;
    const flops = 2 * C * k * k * F * out * out * B;
    const tfRun = tfjs && (() => {
      const { tf } = tfjs;
      const filter = tf.tensor4d(hwcf(correlationWeights(layer).data, C, k, F), [k, k, C, F]);
      const bias = tf.tensor1d(layer.b.getValue().data);
      const run = () => {
        const y = tf.tidy(() => tf.fused.conv2d({ x: tf.tensor4d(nhwc, [B, H, H, C]), filter, strides: 1, pad: pad === 0 ? 'valid' : 'same', bias, activation: 'relu' }));
        const d = y.dataSync();
        y.dispose();
        return d;
      };
      // NHWC (B, out, out, F) -> c01b for the comparison
      const toC01b = (d) => {
        const r = new Float32Array(d.length);
        for (let b = 0; b < B; b++) for (let y = 0; y < out; y++) for (let xx = 0; xx < out; xx++) for (let f = 0; f < F; f++)
          r[((f * out + y) * out + xx) * B + b] = d[((b * out + y) * out + xx) * F + f];
        return r;
      };
      return { run, toOurs: toC01b, dispose: () => { filter.dispose(); bias.dispose(); } };
    })();
    return { layer, input: lasagne.ndarray(x, [C, H, H, B]), flops, shape: `${C}x${H}x${H} -> ${F} k${k} p${pad} b${B}`, tfRun };
  }
  const B = c.B;
  const net = lasagne.cifar10Net(B);
  const convs = lasagne.layers.getAllLayers(net).filter((l) => l instanceof Conv2DCCLayer);
  const nin = lasagne.layers.getAllLayers(net).find((l) => l.constructor.name === 'NINLayer_c01b');
  const x = rand(B * 3 * 32 * 32, 4);
  let flops = 0;
  for (const [C, H, F] of [[3, 32, 32], [32, 16, 32], [32, 8, 64]]) flops += 2 * C * 25 * F * H * H * B;
  flops += 2 * 64 * 10 * 16 * B;
  const tfRun = tfjs && (() => {
    const { tf } = tfjs;
    const filters = convs.map((l) => {
      const w = correlationWeights(l);
      return [tf.tensor4d(hwcf(w.data, w.C, w.k, w.F), [w.k, w.k, w.C, w.F]), tf.tensor1d(l.b.getValue().data)];
    });
    const wn = nin.W.getValue(); // (U, C) -> 1x1 filter (1, 1, C, U)
    const [U, Cn] = wn.shape;
    const ninFilter = tf.tensor4d(Float32Array.from({ length: U * Cn }, (_, i) => wn.data[(i % U) * Cn + Math.floor(i / U)]), [1, 1, Cn, U]);
    const ninBias = tf.tensor1d(nin.b.getValue().data);
    const run = () => {
      const y = tf.tidy(() => {
        let h = tf.transpose(tf.tensor4d(x, [B, 3, 32, 32]), [0, 2, 3, 1]); // bc01 -> NHWC
        for (const [f, b] of filters) {
          h = tf.fused.conv2d({ x: h, filter: f, strides: 1, pad: 'same', bias: b, activation: 'relu' });
          h = tf.maxPool(h, 3, 2, 'same'); // 'same' pads with -inf: cuda-convnet's partial windows
        }
        h = tf.fused.conv2d({ x: h, filter: ninFilter, strides: 1, pad: 'valid', bias: ninBias });
        return tf.transpose(h, [0, 3, 1, 2]); // NHWC -> bc01
      });
      const d = y.dataSync();
      y.dispose();
      return d;
    };
    return { run, toOurs: (d) => d, dispose: () => { filters.flat().forEach((t) => t.dispose()); ninFilter.dispose(); ninBias.dispose(); } };
  })();
  return { layer: net, input: lasagne.ndarray(x, [B, 3, 32, 32]), flops, shape: `CIFAR-10 net b${B}`, tfRun };
}

function stats(times) {
  const s = [...times].sort((a, b) => a - b);
  return { min: s[0], median: s[Math.floor(s.length / 2)] };
}

function relDiff(a, b) {
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / (m || 1);
}

const tfjs = await loadTfjs();
const cpu = cpus()[0]?.model ?? 'unknown CPU';
const BUILDS = PLAIN_ONLY ? ['plain'] : relaxedSimdSupported() ? ['plain', 'relaxed'] : ['plain'];
console.log(`device: ${cpu}, ${availableParallelism()} logical processors; Node ${process.versions.node} ${process.execArgv.join(' ')}`);
console.log(
  `modules: ours build/kernels.wasm ${KERNELS_WASM_BYTES} bytes (WebAssembly SIMD), build/kernels_relaxed.wasm ${KERNELS_RELAXED_WASM_BYTES} bytes ` +
    `(relaxed SIMD: ${BUILDS.includes('relaxed') ? 'timed' : PLAIN_ONLY ? 'not timed, --plain-only' : 'this engine does not validate it'})` +
    (tfjs ? `; tfjs-backend-wasm ${tfjs.version} SIMD build ${tfjs.simdBytes} bytes` : ''),
);
console.log(`timing: ${WARMUP} warm-up runs, then ${REPS} alternating runs per side; ms = min (median)\n`);

const rows = [];
for (const c of CASES) {
  const b = buildCase(c, tfjs);
  const row = { id: c.id, shape: b.shape, gflop: b.flops / 1e9, cols: [] };
  for (const threads of [1, ALL_THREADS]) {
    const nets = {};
    for (const build of BUILDS) {
      setWasmSimd(build);
      nets[build] = await lasagne.compile(b.layer, { backend: 'wasm', threads });
    }
    setWasmSimd(null);
    const times = Object.fromEntries(BUILDS.map((k) => [k, []]));
    const tfTimes = [];
    const check = {};
    for (let r = 0; r < WARMUP + REPS; r++) {
      const outs = {};
      for (const build of BUILDS) {
        const t = performance.now();
        outs[build] = await nets[build].run(b.input);
        if (r >= WARMUP) times[build].push(performance.now() - t);
      }
      if (b.tfRun) {
        const t = performance.now();
        const d = b.tfRun.run();
        const tTf = performance.now() - t;
        if (r >= WARMUP) tfTimes.push(tTf);
        if (r === 0) for (const build of BUILDS) check[build] = relDiff(outs[build].data, b.tfRun.toOurs(d)).toExponential(1);
      }
    }
    const used = nets.plain.device.includes('worker') ? threads : 1;
    row.cols.push({
      threads: used,
      ours: Object.fromEntries(BUILDS.map((k) => [k, stats(times[k])])),
      tfjs: b.tfRun ? stats(tfTimes) : null,
      check,
      device: Object.fromEntries(BUILDS.map((k) => [k, nets[k].device])),
    });
    for (const build of BUILDS) nets[build].dispose();
  }
  b.tfRun?.dispose();
  rows.push(row);
  const fmt = (s) => (s ? `${s.min.toFixed(2)} (${s.median.toFixed(2)})` : '-');
  const line = row.cols
    .map((x) => `${x.threads}T ` + BUILDS.map((k) => `${k} ${fmt(x.ours[k])}${x.tfjs ? ` x${(x.tfjs.min / x.ours[k].min).toFixed(2)}` : ''}${x.check[k] ? ` diff ${x.check[k]}` : ''}`).join(', ') + ` tfjs ${fmt(x.tfjs)}`)
    .join(' | ');
  console.log(`${row.id}: ${line}`);
}

const f = (s) => (s ? `${s.min.toFixed(2)} (${s.median.toFixed(2)})` : '-');
const ratio = (x, k) => (x.tfjs ? `${(x.tfjs.min / x.ours[k].min).toFixed(2)}x` : '-');
const gf = (flop, s) => (flop / (s.min * 1e6)).toFixed(1);
const head = (n) => BUILDS.map((k) => `ours ${k} ${n} ms`).join(' | ');
const ratios = BUILDS.map((k) => `tfjs/${k}`).join(' | ');
console.log(`\n| row | work | GFLOP | ${head('1 thread')} | tfjs 1 thread ms | ${ratios} | ours best GFLOPS | ${head('all threads')} | tfjs all threads ms | ${ratios} |`);
console.log(`|---|---|---|${BUILDS.map(() => '---|').join('')}---|${BUILDS.map(() => '---|').join('')}---|${BUILDS.map(() => '---|').join('')}---|${BUILDS.map(() => '---|').join('')}`);
for (const r of rows) {
  const [one, all] = r.cols;
  const best = BUILDS.map((k) => one.ours[k]).reduce((a, x) => (x.min < a.min ? x : a));
  console.log(
    `| ${r.id} | ${r.shape} | ${r.gflop.toFixed(3)} | ${BUILDS.map((k) => f(one.ours[k])).join(' | ')} | ${f(one.tfjs)} | ${BUILDS.map((k) => ratio(one, k)).join(' | ')} | ${gf(r.gflop * 1e9, best)} | ` +
      `${BUILDS.map((k) => `${f(all.ours[k])} (${all.threads} thr)`).join(' | ')} | ${f(all.tfjs)} (1 thr) | ${BUILDS.map((k) => ratio(all, k)).join(' | ')} |`,
  );
}
console.log('\nratios > 1: ours is faster. tfjs/ours uses the minimum times. plain: WebAssembly SIMD (build/kernels.wasm); relaxed: f32x4.relaxed_madd (build/kernels_relaxed.wasm).');
