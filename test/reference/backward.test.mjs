// The float64 backward oracles (backward.mjs) against central finite differences of the forward
// oracles (layers.mjs layerForward, itself checked against Lasagne's reference in oracles.test.mjs).
// Loss L = sum(y * R) for a fixed random R, so dL/dy = R; for every input element and every
// parameter element, (L(v + h) - L(v - h)) / 2h must match the oracle's gradient. Everything is
// float64: the difference quotient errs by O(h^2 |f'''|) + O(eps |L| / h), about 1e-9 here; the
// bound used is 1e-6 (1 + |g|). Random inputs have no ties and no pre-activation within h of a kink.
//
// Also: every legal partialSum gives the same dW (and partials that sum to it), an illegal one
// throws pylearn2's message, tied maxima all receive the gradient (which finite differences cannot
// see), and the derivative of every nonlinearity from its output against a difference quotient.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as lasagne from '../../dist/index.js';
import { Conv2DCCLayer, MaxPool2DCCLayer, NINLayer_c01b, ShuffleBC01ToC01BLayer, ShuffleC01BToBC01Layer } from '../../dist/layers/cuda_convnet.js';
import { layerForward, nonlinearity } from './layers.mjs';
import { activationGrad, ccGrid, layerBackward, maxPoolGradC01b, weightActsC01b, biasGrad } from './backward.mjs';
import { uniform, randn } from './random.mjs';

const { InputLayer } = lasagne.layers;
const NL = lasagne.nonlinearities;

const NONLINEARITIES = [
  ['linear', NL.linear],
  ['rectify', NL.rectify],
  ['leaky_rectify', new NL.LeakyRectify({ leakiness: 0.1 })],
  ['sigmoid', NL.sigmoid],
  ['tanh', NL.tanh],
  ['scaled_tanh', new NL.ScaledTanH({ scaleIn: 0.5, scaleOut: 2.27 })],
  ['elu', NL.elu],
  ['selu', NL.selu],
  ['softplus', NL.softplus],
];

/** A view of `layer` whose W and b return the given float64 arrays (so differences are not rounded). */
function withParams(layer, W, b) {
  const view = Object.create(layer);
  Object.defineProperty(view, 'W', { value: { getValue: () => W } });
  Object.defineProperty(view, 'b', { value: b === null ? null : { getValue: () => b } });
  return view;
}

const dot = (a, r) => a.data.reduce((s, v, i) => s + v * r.data[i], 0);

/** Central differences of L = sum(forward(v) * R) over every element of v (a float64 array, in place). */
function numericGrad(v, R, forward, h) {
  const g = new Float64Array(v.data.length);
  for (let i = 0; i < v.data.length; i++) {
    const keep = v.data[i];
    v.data[i] = keep + h;
    const up = dot(forward(), R);
    v.data[i] = keep - h;
    const down = dot(forward(), R);
    v.data[i] = keep;
    g[i] = (up - down) / (2 * h);
  }
  return g;
}

function expectGrad(analytic, numeric, label) {
  assert.is(analytic.data.length, numeric.length, `${label}: length`);
  for (let i = 0; i < numeric.length; i++) {
    const a = analytic.data[i];
    const err = Math.abs(a - numeric[i]);
    if (!(err <= 1e-6 * (1 + Math.abs(a)))) assert.unreachable(`${label}: element ${i}: oracle ${a}, finite difference ${numeric[i]}`);
  }
}

/** Checks dx, dW and db of one layer at a random point against finite differences. */
function checkLayer(layer, seed, label) {
  const inShape = layer.inputShape;
  const x = randn(inShape, seed);
  const W = layer.W ? { data: Float64Array.from(layer.W.getValue().data), shape: [...layer.W.getValue().shape] } : null;
  const b = layer.b ? randn(layer.b.getValue().shape, seed + 2) : null;
  const view = W ? withParams(layer, W, b) : layer;
  const y = layerForward(view, x);
  assert.equal(y.shape, layer.outputShape, `${label}: forward shape`);
  const R = randn(y.shape, seed + 1);
  const grads = layerBackward(view, x, y, R);
  const kinked = ['rectify', 'leaky_rectify', 'elu', 'selu'].includes(layer.nonlinearity?.kind);
  const h = kinked ? 1e-7 : 1e-5;
  assert.equal(grads.dx.shape, x.shape, `${label}: dx shape`);
  expectGrad(grads.dx, numericGrad(x, R, () => layerForward(view, x), h), `${label} dx`);
  if (W) {
    assert.equal(grads.dW.shape, W.shape, `${label}: dW shape`);
    expectGrad(grads.dW, numericGrad(W, R, () => layerForward(view, x), h), `${label} dW`);
  }
  if (b) {
    assert.equal(grads.db.shape, b.shape, `${label}: db shape`);
    expectGrad(grads.db, numericGrad(b, R, () => layerForward(view, x), h), `${label} db`);
  } else assert.is(grads.db, undefined, `${label}: no db without a bias`);
}

const Grad = suite('backward oracles vs finite differences');

Grad('Conv2DCCLayer bc01: pads, strides (also truncated grids), flip, untied biases, no bias', () => {
  const cases = [
    { H: 5, W: 6, k: 3, pad: 0, stride: 1 },
    { H: 6, W: 5, k: 3, pad: 1, stride: 2 },
    { H: 7, W: 7, k: 3, pad: 'same', stride: 3, flip: true },
    { H: 4, W: 5, k: 2, pad: 'full', stride: 1, flip: true, untie: true },
    { H: 7, W: 6, k: 4, pad: 2, stride: 3, untie: true },
    { H: 5, W: 5, k: 3, pad: 1, stride: 2, noBias: true, flip: true },
  ];
  cases.forEach((c, n) => {
    const input = new InputLayer([2, 2, c.H, c.W]);
    const layer = new Conv2DCCLayer(input, 16, c.k, {
      pad: c.pad, stride: c.stride, flipFilters: !!c.flip, untieBiases: !!c.untie, b: c.noBias ? null : undefined, nonlinearity: NL.tanh,
    });
    // the truncated grid is exercised: cuda-convnet's grid is larger than Lasagne's in some cases
    checkLayer(layer, 10 + n, `conv ${JSON.stringify(c)}`);
  });
  const trunc = cases.filter((c) => {
    const p = c.pad === 'same' ? (c.k - 1) >> 1 : c.pad === 'full' ? c.k - 1 : c.pad;
    return ccGrid(c.H, c.k, c.stride, p) > Math.ceil((c.H + 2 * p - c.k + 1) / c.stride);
  });
  assert.ok(trunc.length >= 2, 'cases with a truncated module grid');
});

Grad('Conv2DCCLayer c01b (dimshuffle false) with every nonlinearity', () => {
  NONLINEARITIES.forEach(([kind, nl], n) => {
    const input = new InputLayer([3, 5, 5, 3]);
    const layer = new Conv2DCCLayer(input, 16, 3, { pad: 1, stride: n % 2 ? 2 : 1, dimshuffle: false, untieBiases: n % 3 === 0, nonlinearity: nl, flipFilters: n % 2 === 0 });
    assert.is(layer.nonlinearity.kind, kind);
    checkLayer(layer, 40 + n, `conv c01b ${kind}`);
  });
});

Grad('NINLayer_c01b: 4-D and 2-D input, tied, untied and no bias, every nonlinearity', () => {
  NONLINEARITIES.forEach(([kind, nl], n) => {
    const input = new InputLayer(n % 3 === 2 ? [5, 4] : [5, 2, 3, 2]);
    const layer = new NINLayer_c01b(input, 7, { untieBiases: n % 3 === 1, b: n % 4 === 3 ? null : undefined, nonlinearity: nl });
    checkLayer(layer, 60 + n, `nin ${kind} input ${JSON.stringify(input.outputShape)}`);
  });
});

Grad('MaxPool2DCCLayer: partial windows, overlapping and non-overlapping, both layouts', () => {
  const cases = [
    { shape: [2, 3, 7, 7], P: 3, s: 2, dimshuffle: true },
    { shape: [2, 3, 6, 6], P: 2, s: 2, dimshuffle: true },
    { shape: [3, 8, 8, 2], P: 3, s: 3, dimshuffle: false },
    { shape: [3, 5, 5, 2], P: 3, s: 1, dimshuffle: false },
  ];
  cases.forEach((c, n) => {
    const layer = new MaxPool2DCCLayer(new InputLayer(c.shape), c.P, { stride: c.s, dimshuffle: c.dimshuffle });
    checkLayer(layer, 80 + n, `pool ${JSON.stringify(c)}`);
  });
});

Grad('the shuffle layers: the gradient is the inverse transpose', () => {
  checkLayer(new ShuffleBC01ToC01BLayer(new InputLayer([2, 3, 4, 5])), 90, 'bc01 -> c01b');
  checkLayer(new ShuffleC01BToBC01Layer(new InputLayer([3, 4, 5, 2])), 91, 'c01b -> bc01');
});

const Parts = suite('backward oracles: partialSum, ties, derivatives');

Parts('every legal partialSum gives the same dW; partials have shape (M/P, C, k, k, F) and sum to it', () => {
  // H = 6, k = 3, s = 2, p = 0: cuda-convnet grid ceil(3/2) + 1 = 3 > Lasagne's 2, so M = 9
  const img = randn([2, 6, 6, 3], 1);
  const dz = randn([16, 2, 2, 3], 2);
  const ref = weightActsC01b(img, dz, 3, 0, 2, 0);
  assert.is(ref.M, 9);
  assert.is(ref.partials, null);
  for (const P of [1, 3, 9]) {
    const r = weightActsC01b(img, dz, 3, 0, 2, P);
    assert.is(r.G, 9 / P);
    if (P < 9) assert.equal(r.partials.shape, [9 / P, 2, 3, 3, 16]);
    for (let e = 0; e < ref.dw.data.length; e++) assert.ok(Math.abs(r.dw.data[e] - ref.dw.data[e]) < 1e-12, `P ${P} element ${e}`);
  }
  // with P = 3 the groups are the module rows: group 2 is the truncated row, so its partial is 0
  const r3 = weightActsC01b(img, dz, 3, 0, 2, 3);
  const K = 2 * 9 * 16;
  assert.ok(r3.partials.data.slice(2 * K).every((v) => v === 0), 'the truncated row contributes nothing');
  assert.ok(r3.partials.data.slice(0, K).some((v) => v !== 0));
  for (const bad of [2, 4, 5]) assert.throws(() => weightActsC01b(img, dz, 3, 0, 2, bad), new RegExp(`partialSum=${bad} and numModules=9`));
});

Parts('max-pool gradient: every tied maximum receives the gradient, also in overlapping windows', () => {
  // one channel, 3x3, one batch entry; pool 2 stride 1 -> 2x2 windows
  const x = { data: Float64Array.from([1, 5, 5, 5, 0, 2, 3, 5, 4]), shape: [1, 3, 3, 1] };
  const dy = { data: Float64Array.from([1, 10, 100, 1000]), shape: [1, 2, 2, 1] };
  const dx = maxPoolGradC01b(x, dy, 2, 1);
  // windows: (0,0) {1,5,5,0} max 5 at (0,1),(1,0); (0,1) {5,5,0,2} max 5 at (0,1),(0,2);
  // (1,0) {5,0,3,5} max 5 at (1,0),(2,1); (1,1) {0,2,5,4} max 5 at (2,1)
  assert.equal(Array.from(dx.data), [0, 11, 10, 101, 0, 0, 0, 1100, 0]);
});

Parts('bias gradients: tied sums positions and batch, untied only the batch', () => {
  const dz = uniform([2, 2, 3, 2], 5);
  const tied = biasGrad(dz, 'tied');
  const untied = biasGrad(dz, 'untied');
  assert.equal(tied.shape, [2]);
  assert.equal(untied.shape, [2, 2, 3]);
  const s = (a, b) => dz.data.slice(a, b).reduce((x, y) => x + y, 0);
  assert.ok(Math.abs(tied.data[1] - s(12, 24)) < 1e-12);
  assert.ok(Math.abs(untied.data[4] - s(8, 10)) < 1e-12);
});

Parts("every nonlinearity's derivative, read from its output, matches a difference quotient", () => {
  const xs = [-7, -2.5, -1, -0.3, -1e-3, 1e-3, 0.4, 1, 3, 8];
  for (const [kind, nl] of NONLINEARITIES) {
    for (const x of xs) {
      const h = 1e-6;
      const fd = (nonlinearity(kind, nl.params, x + h) - nonlinearity(kind, nl.params, x - h)) / (2 * h);
      const g = activationGrad(kind, nl.params, nonlinearity(kind, nl.params, x));
      assert.ok(Math.abs(g - fd) <= 1e-6 * (1 + Math.abs(fd)), `${kind}'(${x}): ${g} vs ${fd}`);
    }
  }
  assert.is(activationGrad('rectify', [], 0), 0, 'the kink takes the x <= 0 side');
  assert.is(activationGrad('scaled_tanh', [2, 0], 0), 0, 'scaleOut 0 has derivative 0');
});

Grad.run();
Parts.run();
