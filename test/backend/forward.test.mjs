// The shared forward suite: every Lasagne forward case of the reference (§6.1-6.3) and random
// stacks of all five layers, run through compile()/run() on every backend that can run here and
// compared with the naive float64 oracles of test/reference (shapes first, then values within the
// float32 rounding bound of test/reference/layers.mjs tolerance(); pooling and transposes exact).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { backendsHere } from './env.mjs';
import * as lasagne from 'lasagne-webgpu';
import { Conv2DCCLayer, MaxPool2DCCLayer, NINLayer_c01b, ShuffleBC01ToC01BLayer, ShuffleC01BToBC01Layer } from 'lasagne-webgpu/layers/cuda_convnet';
import { uniform, randn, mulberry32 } from '../reference/random.mjs';
import { convNd, filterActsC01b } from '../reference/conv.mjs';
import { max_pool_2d } from '../reference/pool.mjs';
import { transpose, flipSpatial } from '../reference/array.mjs';
import { layerForward, termsPerOutput, lipschitz, tolerance } from '../reference/layers.mjs';

const { InputLayer } = lasagne.layers;
const { ValueError, RuntimeError } = lasagne.errors;
const f32 = (a) => ({ data: Float32Array.from(a.data), shape: [...a.shape] });

/** Compares ours with a float64 reference: shape first, then |ours - ref| <= tol(i) everywhere. */
function expectClose(ours, ref, tol, label) {
  assert.equal(ours.shape, ref.shape, `${label}: shape`);
  assert.ok(ours.data instanceof Float32Array, `${label}: Float32Array`);
  let worst = -1;
  let at = -1;
  for (let i = 0; i < ref.data.length; i++) {
    const err = Math.abs(ours.data[i] - ref.data[i]);
    const t = tol(i);
    if (!(err <= t) && (worst < 0 || err - t > worst)) {
      worst = err - t;
      at = i;
    }
  }
  assert.ok(at < 0, `${label}: element ${at} is ${ours.data[at]}, reference ${ref.data[at]} (tolerance ${tol(at)})`);
}

/** One layer's output checked against the oracle applied to the same (float32) input. */
function checkLayer(layer, input, ours, label) {
  const ref = layerForward(layer, input);
  const N = termsPerOutput(layer, input.shape);
  if (N === 0) {
    expectClose(ours, ref, () => 0, label);
    return;
  }
  const mag = layerForward(layer, input, { abs: true });
  const L = lipschitz(layer.nonlinearity.kind, layer.nonlinearity.params);
  expectClose(ours, ref, (i) => tolerance(N, L, mag.data[i], ref.data[i]), label);
}

async function runLayer(layer, x, backend) {
  const net = await lasagne.compile(layer, { backend });
  try {
    return await net.run(x);
  } finally {
    net.dispose();
  }
}

const here = await backendsHere();

for (const [backend, missing] of here) {
  const s = suite(`forward pass on ${backend}`);
  if (missing) {
    s(`skipped: backend ${backend} is ${missing}`, () => console.log(`  SKIP ${backend}: ${missing}`));
    s.run();
    continue;
  }

  s('Lasagne\'s conv2d_test_sets through Conv2DCCLayer match convNd (true convolution, flipFilters: true)', async () => {
    const input = f32(uniform([3, 1, 11, 16], 1));
    let n = 0;
    for (const pad of [0, 1, 2, 'full', 'same'])
      for (const stride of [1, 2, 3])
        for (const k of [1, 3]) {
          if (stride > k) continue;
          const kernel = f32(uniform([16, 1, k, k], 100 + k));
          const layer = new Conv2DCCLayer(new InputLayer([3, 1, 11, 16]), 16, k, { pad, stride, flipFilters: true, W: kernel });
          const ours = await runLayer(layer, input, backend);
          const ref = convNd(input, kernel, pad, stride);
          assert.equal(ours.shape, layer.outputShape);
          // inputs and kernels are in [0, 1): the magnitude equals the value
          expectClose(ours, ref, (i) => tolerance(k * k + 1, 1, ref.data[i], ref.data[i]), `pad ${pad} stride ${stride} k ${k}`);
          n++;
        }
    assert.is(n, 20);
  });

  s('the extra sets: no bias, untied biases, pad valid, and flipFilters: false (a correlation)', async () => {
    const input = f32(uniform([3, 1, 11, 16], 2));
    const kernel = f32(uniform([16, 1, 3, 3], 3));
    const ref = convNd(input, kernel, 'valid', 1);
    const tol = (i) => tolerance(10, 1, ref.data[i], ref.data[i]);
    for (const extra of [{ b: null }, { untieBiases: true }, { pad: 'valid' }]) {
      const layer = new Conv2DCCLayer(new InputLayer([3, 1, 11, 16]), 16, 3, { flipFilters: true, W: kernel, ...extra });
      expectClose(await runLayer(layer, input, backend), ref, tol, JSON.stringify(extra));
    }
    const corr = new Conv2DCCLayer(new InputLayer([3, 1, 11, 16]), 16, 3, { flipFilters: false, W: kernel });
    expectClose(await runLayer(corr, input, backend), convNd(input, flipSpatial(kernel), 'valid', 1), tol, 'flipFilters false');
  });

  s('unknown batch and spatial sizes (test_with_nones) run through getOutput with the input\'s shape', async () => {
    const input = f32(uniform([3, 1, 11, 16], 4));
    const kernel = f32(uniform([16, 1, 3, 3], 5));
    const layer = new Conv2DCCLayer(new InputLayer([null, 1, null, null]), 16, 3, { stride: 2, pad: 1, flipFilters: true, W: kernel });
    assert.equal(layer.outputShape, [null, 16, null, null]);
    const ref = convNd(input, kernel, 1, 2);
    expectClose(await lasagne.layers.getOutput(layer, input, { backend }), ref, (i) => tolerance(10, 1, ref.data[i], ref.data[i]), 'nones');
  });

  s('dimshuffle: false computes FilterActs in c01b (test_dimshuffle_false_get_output_for)', async () => {
    const input = f32(uniform([4, 5, 5, 8], 6));
    const kernel = f32(uniform([4, 3, 3, 16], 7));
    const layer = new Conv2DCCLayer(new InputLayer([4, 5, 5, 8]), 16, 3, { dimshuffle: false, W: kernel, b: null, nonlinearity: null });
    const ref = filterActsC01b(input, kernel, 0, 1);
    assert.equal(ref.shape, [16, 3, 3, 8]);
    expectClose(await runLayer(layer, input, backend), ref, (i) => tolerance(37, 1, ref.data[i], ref.data[i]), 'c01b');
  });

  s('the shuffle layers transpose exactly', async () => {
    const x = f32(uniform([1, 2, 3, 4], 8));
    const fwd = new ShuffleBC01ToC01BLayer(new InputLayer([1, 2, 3, 4]));
    expectClose(await runLayer(fwd, x, backend), transpose(x, [1, 2, 3, 0]), () => 0, 'bc01 -> c01b');
    const back = new ShuffleC01BToBC01Layer(new InputLayer([1, 2, 3, 4]));
    expectClose(await runLayer(back, x, backend), transpose(x, [3, 0, 1, 2]), () => 0, 'c01b -> bc01');
  });

  s('MaxPool2DCCLayer matches max_pool_2d exactly, partial windows included, both layouts', async () => {
    const x = f32(randn([8, 16, 16, 16], 9));
    for (const [P, st] of [[2, 1], [2, 2], [3, 1], [3, 2], [3, 3]]) {
      const layer = new MaxPool2DCCLayer(new InputLayer([8, 16, 16, 16]), P, { stride: st });
      expectClose(await runLayer(layer, x, backend), max_pool_2d(x, [P, P], [st, st]), () => 0, `P ${P} s ${st}`);
    }
    const c = f32(randn([4, 12, 12, 16], 10));
    const layer = new MaxPool2DCCLayer(new InputLayer([4, 12, 12, 16]), 2, { dimshuffle: false });
    const ref = transpose(max_pool_2d(transpose(c, [3, 0, 1, 2]), [2, 2], [2, 2]), [1, 2, 3, 0]);
    expectClose(await runLayer(layer, c, backend), ref, () => 0, 'c01b');
    const wide = f32(randn([3, 16, 7, 10], 11));
    const nonSquare = new MaxPool2DCCLayer(new InputLayer([3, 16, 7, 10]), 3, { stride: 2 });
    expectClose(await runLayer(nonSquare, wide, backend), max_pool_2d(wide, [3, 3], [2, 2]), () => 0, 'non-square');
  });

  s('NINLayer_c01b (test_get_output_for with {}, untied biases, no bias)', async () => {
    const x = f32(uniform([3, 4, 5, 2], 12, -1, 1));
    for (const extra of [{}, { untieBiases: true }, { b: null }]) {
      const layer = new NINLayer_c01b(new InputLayer([3, 4, 5, 2]), 6, { nonlinearity: null, ...extra });
      if (layer.b) layer.b.setValue(f32(uniform(layer.b.shape, 13, -1, 1)));
      checkLayer(layer, x, await runLayer(layer, x, backend), JSON.stringify(extra));
    }
  });

  s('every nonlinearity and bias mode is fused correctly into conv and NIN', async () => {
    const nl = lasagne.nonlinearities;
    const all = [nl.sigmoid, nl.tanh, new nl.ScaledTanH({ scaleIn: 0.5, scaleOut: 2.27 }), nl.rectify, nl.leakyRectify,
      new nl.LeakyRectify({ leakiness: 0.3 }), nl.elu, nl.selu, new nl.SELU({ scale: 1.2, scaleNeg: 0.5 }), nl.softplus, nl.linear];
    const x = f32(uniform([2, 4, 6, 6], 14, -2, 2));
    for (const [i, f] of all.entries()) {
      for (const biasMode of ['tied', 'untied', 'none']) {
        const opts = { nonlinearity: f, pad: 1, b: biasMode === 'none' ? null : undefined, untieBiases: biasMode === 'untied' };
        const conv = new Conv2DCCLayer(new InputLayer([2, 4, 6, 6]), 16, 3, opts);
        if (conv.b) conv.b.setValue(f32(uniform(conv.b.shape, 15 + i, -1, 1)));
        checkLayer(conv, x, await runLayer(conv, x, backend), `conv ${String(f)} ${biasMode}`);
      }
      const c = f32(uniform([4, 3, 3, 5], 40 + i, -2, 2));
      const nin = new NINLayer_c01b(new InputLayer([4, 3, 3, 5]), 7, { nonlinearity: f, untieBiases: i % 2 === 1 });
      nin.b.setValue(f32(uniform(nin.b.shape, 60 + i, -1, 1)));
      checkLayer(nin, c, await runLayer(nin, c, backend), `nin ${String(f)}`);
    }
  });

  s('random stacks of all five layers, batch 1 to 130, both layouts, every layer checked', async () => {
    const r = mulberry32(backend === 'wasm' ? 2026 : 2027);
    const pick = (xs) => xs[Math.floor(r() * xs.length)];
    const int = (lo, hi) => lo + Math.floor(r() * (hi - lo + 1));
    const cases = backend === 'wasm' ? 16 : 8;
    for (let c = 0; c < cases; c++) {
      const batch = c === 0 ? 1 : c === 1 ? 130 : int(1, 40);
      let layout = r() < 0.5 ? 'bc01' : 'c01b';
      let [C, H, W] = [pick([1, 2, 3, 4, 8]), int(5, 11), int(5, 11)];
      const maxElems = backend === 'wasm' ? 30000 : 12000;
      while (batch * C * H * W > maxElems && H > 3) [H, W] = [H - 1, W - 1];
      const input = new InputLayer(layout === 'bc01' ? [batch, C, H, W] : [C, H, W, batch]);
      let top = input;
      const chain = [];
      for (let n = int(2, 5); n > 0; n--) {
        const kind = pick(['conv', 'conv', 'pool', 'shuffle', 'nin']);
        const dimshuffle = layout === 'bc01';
        if (kind === 'conv') {
          const k = int(1, Math.min(5, H, W));
          const stride = int(1, Math.min(3, k));
          const pad = pick([0, 1, 2, 'valid', 'full', k % 2 ? 'same' : 0]);
          const F = pick([16, 32]);
          const nonlinearity = pick([lasagne.nonlinearities.rectify, lasagne.nonlinearities.tanh, null, lasagne.nonlinearities.elu]);
          top = new Conv2DCCLayer(top, F, k, { stride, pad, dimshuffle, nonlinearity, untieBiases: r() < 0.3, b: r() < 0.2 ? null : undefined, flipFilters: r() < 0.5 });
          if (top.b) top.b.setValue(f32(uniform(top.b.shape, int(0, 1e6), -0.5, 0.5)));
          C = F;
        } else if (kind === 'pool') {
          if (Math.min(H, W) < 2) continue;
          const P = int(1, Math.min(3, H, W));
          top = new MaxPool2DCCLayer(top, P, { stride: int(1, P), dimshuffle });
        } else if (kind === 'shuffle') {
          top = layout === 'bc01' ? new ShuffleBC01ToC01BLayer(top) : new ShuffleC01BToBC01Layer(top);
          layout = layout === 'bc01' ? 'c01b' : 'bc01';
        } else {
          if (layout !== 'c01b') continue;
          const U = pick([1, 2, 3, 4, 8, 12, 16]);
          top = new NINLayer_c01b(top, U, { nonlinearity: pick([null, lasagne.nonlinearities.rectify]), untieBiases: r() < 0.3 });
          if (top.b) top.b.setValue(f32(uniform(top.b.shape, int(0, 1e6), -0.5, 0.5)));
          C = U;
        }
        chain.push(top);
        const shp = top.outputShape;
        [H, W] = layout === 'bc01' ? [shp[2], shp[3]] : [shp[1], shp[2]];
      }
      if (chain.length === 0) continue;
      const x = f32(uniform(input.shape, 1000 + c, -1, 1));
      const net = await lasagne.compile(chain, { backend });
      const outs = await net.run(x);
      net.dispose();
      let below = x;
      chain.forEach((layer, i) => {
        checkLayer(layer, below, outs[i], `case ${c} (batch ${batch}) layer ${i} ${layer.constructor.name}`);
        below = outs[i];
      });
    }
  });

  s('eliding inverse transposes changes no result (bit-identical), and two runs agree bit for bit', async () => {
    const { selectBackend } = await import('../../dist/backend/select.js');
    const impl = await selectBackend(backend, false);
    const net = lasagne.cifar10Net(3);
    const x = f32(uniform([3, 3, 32, 32], 16, -1, 1));
    const results = [];
    for (const elide of [true, false]) {
      const p = lasagne.plan(net, { elide });
      const prepared = await impl.prepare(p, lasagne.getAllParams(net), {});
      results.push((await prepared.run([x.data]))[0]);
      results.push((await prepared.run([x.data]))[0]);
      prepared.dispose();
    }
    assert.equal(results[0], results[1], 'two runs');
    assert.equal(results[0], results[2], 'with and without elision');
    assert.equal(results[2], results[3]);
  });

  s('run() refuses bad input before queueing anything; a disposed network refuses with RuntimeError', async () => {
    const net = await lasagne.compile(lasagne.cifar10Net(2), { backend });
    assert.is(net.backend, backend);
    const ok = f32(uniform([2, 3, 32, 32], 17));
    const bad = [
      [{ data: new Float32Array(2 * 3 * 32 * 31), shape: [2, 3, 32, 31] }, /compiled for \(2, 3, 32, 32\)/],
      [{ data: new Float64Array(2 * 3 * 32 * 32), shape: [2, 3, 32, 32] }, /Float32Array/],
      [{ data: new Float32Array(5), shape: [2, 3, 32, 32] }, /5 elements/],
      [[1, 2, 3], /NDArray/],
    ];
    for (const [x, re] of bad) {
      const e = await net.run(x).then(() => null, (err) => err);
      assert.ok(e instanceof ValueError && re.test(e.message), `${re}: ${e && e.message}`);
    }
    const out = await net.run(ok);
    assert.equal(out.shape, [2, 10, 4, 4]);
    net.dispose();
    const e = await net.run(ok).then(() => null, (err) => err);
    assert.ok(e instanceof RuntimeError && /disposed/.test(e.message));
  });

  s('runs issued together (more than WebGPU keeps in flight) each get their own input\'s output, whatever the caller does to the arrays afterwards', async () => {
    const net = await lasagne.compile(lasagne.cifar10Net(2), { backend });
    const xs = [21, 22, 23, 24, 25, 26, 27].map((seed) => f32(uniform([2, 3, 32, 32], seed, -1, 1)));
    const oneByOne = [];
    for (const x of xs) oneByOne.push(await net.run(x));
    // one array refilled after each call: a run uses the values it was called with
    const shared = f32(xs[0]);
    const together = xs.map((x) => {
      shared.data.set(x.data);
      const y = net.run(shared);
      shared.data.fill(Number.NaN);
      return y;
    });
    const outs = await Promise.all(together);
    net.dispose();
    outs.forEach((y, i) => assert.equal(y.data, oneByOne[i].data, `run ${i}`));
    assert.not.equal(outs[0].data, outs[1].data);
  });

  s('compile option profile: false skips the per-layer timing (profile() is null) and changes no result; a non-boolean is a TypeError', async () => {
    const net = lasagne.cifar10Net(4);
    const x = f32(uniform([4, 3, 32, 32], 31, -1, 1));
    const timed = await lasagne.compile(net, { backend });
    const plain = await lasagne.compile(net, { backend, profile: false });
    const a = await timed.run(x);
    const b = await plain.run(x);
    assert.equal(b.data, a.data);
    assert.is(plain.profile(), null);
    if (backend === 'wasm') assert.ok(Array.isArray(timed.profile()) && timed.profile().length > 0, 'timed network profiles');
    timed.dispose();
    plain.dispose();
    let e = null;
    try {
      await lasagne.compile(net, { backend, profile: 'yes' });
    } catch (err) {
      e = err;
    }
    assert.ok(e instanceof TypeError && /'profile' must be a boolean/.test(e.message), String(e));
  });

  s('a compiled network sees new parameter values on its next run', async () => {
    const layer = new Conv2DCCLayer(new InputLayer([2, 4, 5, 5]), 16, 3, { nonlinearity: null });
    const x = f32(uniform([2, 4, 5, 5], 18));
    const net = await lasagne.compile(layer, { backend });
    const before = await net.run(x);
    layer.W.setValue(f32(uniform(layer.W.shape, 19, -1, 1)));
    layer.b.setValue(f32(uniform([16], 20)));
    const after = await net.run(x);
    net.dispose();
    assert.not.equal(after.data, before.data);
    checkLayer(layer, x, after, 'after setValue');
  });

  s.run();
}
