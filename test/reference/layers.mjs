/**
 * A naive float64 forward pass of one layer of this package, from the layer's attributes and its
 * parameter values, with its own nonlinearity formulas (lasagne/nonlinearities.py and Theano's),
 * independent of src/. `abs: true` computes the magnitude sum_terms |x * w| + |b| instead (identity
 * nonlinearity): the scale of the float32 rounding error the backends may make (see tolerance()).
 */
import { transpose, flipSpatial, cropAxes12 } from './array.mjs';
import { filterActsC01b } from './conv.mjs';
import { max_pool_2d } from './pool.mjs';

const f64 = (a) => ({ data: Float64Array.from(a.data), shape: [...a.shape] });
const absOf = (a) => ({ data: a.data.map(Math.abs), shape: a.shape });

/** Lasagne's nonlinearities in float64, written again from the reference formulas. */
export function nonlinearity(kind, params, x) {
  switch (kind) {
    case 'linear': return x;
    case 'rectify': return 0.5 * (x + Math.abs(x));
    case 'leaky_rectify': return 0.5 * (1 + params[0]) * x + 0.5 * (1 - params[0]) * Math.abs(x);
    case 'sigmoid': return 1 / (1 + Math.exp(-x));
    case 'tanh': return Math.tanh(x);
    case 'scaled_tanh': return Math.tanh(params[0] * x) * params[1];
    case 'elu': return x > 0 ? x : Math.expm1(x);
    case 'selu': return params[0] * (x > 0 ? x : params[1] * Math.expm1(x));
    case 'softplus': return Math.log1p(Math.exp(x));
    default: throw new Error(`oracle: no nonlinearity ${kind}`);
  }
}

/** Largest |phi'| of a nonlinearity: how much it can magnify an input error. */
export function lipschitz(kind, params) {
  switch (kind) {
    case 'leaky_rectify': return Math.max(1, Math.abs(params[0]));
    case 'scaled_tanh': return Math.abs(params[0] * params[1]);
    case 'selu': return Math.abs(params[0]) * Math.max(1, Math.abs(params[1]));
    case 'sigmoid': return 0.25;
    default: return 1;
  }
}

/** The layer's output for `input` (an NDArray-like in the layer's input layout), float64. */
export function layerForward(layer, input, { abs = false } = {}) {
  const name = layer.constructor.name;
  let x = abs ? absOf(f64(input)) : f64(input);
  if (name === 'ShuffleBC01ToC01BLayer') return transpose(x, [1, 2, 3, 0]);
  if (name === 'ShuffleC01BToBC01Layer') return transpose(x, [3, 0, 1, 2]);
  if (name === 'MaxPool2DCCLayer') {
    const bc01 = layer.dimshuffle ? x : transpose(x, [3, 0, 1, 2]);
    const y = max_pool_2d(bc01, [layer.poolSize, layer.poolSize], [layer.stride, layer.stride]);
    return layer.dimshuffle ? y : transpose(y, [1, 2, 3, 0]);
  }
  const kind = abs ? 'linear' : layer.nonlinearity.kind;
  const params = layer.nonlinearity.params;
  const bias = layer.b === null ? null : (abs ? absOf(f64(layer.b.getValue())) : f64(layer.b.getValue()));
  if (name === 'Conv2DCCLayer') {
    let w = f64(layer.W.getValue());
    if (abs) w = absOf(w);
    // bc01 (F, C, k, k) -> (C, k, k, F); flipping is done on the (F, C, k, k) form
    let wFckk = layer.dimshuffle ? w : transpose(w, [3, 0, 1, 2]);
    if (layer.flipFilters) wFckk = flipSpatial(wFckk);
    const wC01f = transpose(wFckk, [1, 2, 3, 0]);
    const xC01b = layer.dimshuffle ? transpose(x, [1, 2, 3, 0]) : x;
    const out = layer.outputShape.some((d) => d === null)
      ? null
      : layer.dimshuffle ? [layer.outputShape[2], layer.outputShape[3]] : [layer.outputShape[1], layer.outputShape[2]];
    const raw = filterActsC01b(xC01b, wC01f, layer.resolvedPad, layer.stride[0]);
    const [rows, cols] = out ?? lasagneSize(layer, xC01b.shape[1], xC01b.shape[2]);
    const y = cropAxes12(raw, rows, cols);
    const [F, R, S, B] = y.shape;
    for (let f = 0; f < F; f++)
      for (let r = 0; r < R; r++)
        for (let s = 0; s < S; s++)
          for (let b = 0; b < B; b++) {
            const i = ((f * R + r) * S + s) * B + b;
            const bv = bias === null ? 0 : layer.untieBiases ? bias.data[(f * R + r) * S + s] : bias.data[f];
            y.data[i] = nonlinearity(kind, params, y.data[i] + bv);
          }
    return layer.dimshuffle ? transpose(y, [3, 0, 1, 2]) : y;
  }
  if (name === 'NINLayer_c01b') {
    let w = f64(layer.W.getValue());
    if (abs) w = absOf(w);
    const [U, C] = w.shape;
    const n = x.data.length / C;
    const batch = x.shape[x.shape.length - 1];
    const out = new Float64Array(U * n);
    for (let u = 0; u < U; u++)
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let c = 0; c < C; c++) acc += w.data[u * C + c] * x.data[c * n + j];
        const bv = bias === null ? 0 : layer.untieBiases ? bias.data[u * (n / batch) + Math.floor(j / batch)] : bias.data[u];
        out[u * n + j] = nonlinearity(kind, params, acc + bv);
      }
    return { data: out, shape: [U, ...x.shape.slice(1)] };
  }
  throw new Error(`oracle: no forward pass for ${name}`);
}

function lasagneSize(layer, H, W) {
  const k = layer.filterSize[0];
  const s = layer.stride[0];
  const p = layer.resolvedPad;
  return [Math.ceil((H + 2 * p - k + 1) / s), Math.ceil((W + 2 * p - k + 1) / s)];
}

/** Terms summed per output element (C k^2 for conv, C for NIN; 0 for exact ops). */
export function termsPerOutput(layer, inputShape) {
  const name = layer.constructor.name;
  if (name === 'Conv2DCCLayer') {
    const c = layer.dimshuffle ? inputShape[1] : inputShape[0];
    return c * layer.filterSize[0] * layer.filterSize[0] + 1;
  }
  if (name === 'NINLayer_c01b') return inputShape[0] + 1;
  return 0;
}

/**
 * The tolerance for one output element. Any summation order of N float32 terms errs by at most
 * gamma_N * sum|terms| with gamma_N = N u / (1 - N u), u = 2^-24 (Higham, Accuracy and Stability of
 * Numerical Algorithms, 3.1); the nonlinearity magnifies that by at most its Lipschitz constant L
 * and adds its own rounding (a few ulps of the result; 1e-6 relative covers the float32
 * transcendental functions of WGSL and C). Exact ops (pool, transpose) get 0.
 */
export function tolerance(N, L, magnitude, value) {
  if (N === 0) return 0;
  const u = 2 ** -24;
  const n = N + 2; // the products and the bias add round too
  const gamma = (n * u) / (1 - n * u);
  return L * gamma * magnitude + 1e-6 * Math.abs(value) + 1e-30;
}
