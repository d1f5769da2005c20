/**
 * A float64 forward pass and loss of a whole network (a chain of layers of this package), with the
 * parameter values given as float64 arrays, so that central finite differences of the loss are
 * accurate to O(h^2): what the trainer's gradients are checked against (test/compile/training.test.mjs).
 * Per layer the formulas of test/reference/layers.mjs and training_ops.mjs; dropout draws the mask of
 * DropoutStep on the layer's batch-last form (rotation 1) with the trainer's run counter.
 */
import { transpose, flipSpatial, cropAxes12 } from './array.mjs';
import { filterActsC01b } from './conv.mjs';
import { max_pool_2d } from './pool.mjs';
import { nonlinearity } from './layers.mjs';
import { dropoutMaskRef, lossRef, softmaxRef } from './training_ops.mjs';

const size = (shape) => shape.reduce((a, b) => a * b, 1);

/** Moves axis 0 last (rotation 1 of an n-D array): (N, ...) -> (..., N). */
function batchLast(x) {
  const [n, ...rest] = x.shape;
  const per = size(rest);
  const out = new Float64Array(x.data.length);
  for (let b = 0; b < n; b++) for (let i = 0; i < per; i++) out[i * n + b] = x.data[b * per + i];
  return { data: out, shape: [...rest, n] };
}

function batchFirst(x) {
  const n = x.shape[x.shape.length - 1];
  const rest = x.shape.slice(0, -1);
  const per = size(rest);
  const out = new Float64Array(x.data.length);
  for (let b = 0; b < n; b++) for (let i = 0; i < per; i++) out[b * per + i] = x.data[i * n + b];
  return { data: out, shape: [n, ...rest] };
}

function act(layer, x) {
  const nl = layer.nonlinearity;
  if (nl.kind === 'softmax') {
    const [N, U] = x.shape;
    const t = batchLast(x);
    return batchFirst({ data: softmaxRef(t.data, U, N), shape: [U, N] });
  }
  return { data: x.data.map((v) => nonlinearity(nl.kind, nl.params, v)), shape: x.shape };
}

/**
 * The network's output in float64. `values`: Map from Param to Float64Array (its value);
 * `counter`: the trainer's dropout counter of the run; `deterministic`: no dropout.
 */
export function networkForward(layers, x, values, { counter = 1, deterministic = false } = {}) {
  const out = new Map();
  const val = (p) => ({ data: values.get(p), shape: [...p.shape] });
  layers.forEach((layer, index) => {
    const name = layer.constructor.name;
    const input = layer.inputLayer === null ? { data: Float64Array.from(x.data), shape: [...x.shape] } : out.get(layer.inputLayer);
    let y;
    if (name === 'InputLayer') y = input;
    else if (name === 'ShuffleBC01ToC01BLayer') y = transpose(input, [1, 2, 3, 0]);
    else if (name === 'ShuffleC01BToBC01Layer') y = transpose(input, [3, 0, 1, 2]);
    else if (name === 'MaxPool2DCCLayer') {
      const bc01 = layer.dimshuffle ? input : transpose(input, [3, 0, 1, 2]);
      const p = max_pool_2d(bc01, [layer.poolSize, layer.poolSize], [layer.stride, layer.stride]);
      y = layer.dimshuffle ? p : transpose(p, [1, 2, 3, 0]);
    } else if (name === 'Conv2DCCLayer') {
      const w = val(layer.W);
      let wFckk = layer.dimshuffle ? w : transpose(w, [3, 0, 1, 2]);
      if (layer.flipFilters) wFckk = flipSpatial(wFckk);
      const xC01b = layer.dimshuffle ? transpose(input, [1, 2, 3, 0]) : input;
      const [rows, cols] = layer.dimshuffle ? layer.outputShape.slice(2) : layer.outputShape.slice(1, 3);
      const z = cropAxes12(filterActsC01b(xC01b, transpose(wFckk, [1, 2, 3, 0]), layer.resolvedPad, layer.stride[0]), rows, cols);
      const [F, R, S, B] = z.shape;
      const b = layer.b === null ? null : values.get(layer.b);
      for (let f = 0; f < F; f++) for (let r = 0; r < R; r++) for (let s = 0; s < S; s++) for (let n = 0; n < B; n++) {
        const i = ((f * R + r) * S + s) * B + n;
        const bv = b === null ? 0 : layer.untieBiases ? b[(f * R + r) * S + s] : b[f];
        z.data[i] = nonlinearity(layer.nonlinearity.kind, layer.nonlinearity.params, z.data[i] + bv);
      }
      y = layer.dimshuffle ? transpose(z, [3, 0, 1, 2]) : z;
    } else if (name === 'NINLayer_c01b') {
      const w = values.get(layer.W);
      const [U, C] = layer.W.shape;
      const n = input.data.length / C;
      const batch = input.shape[input.shape.length - 1];
      const b = layer.b === null ? null : values.get(layer.b);
      const data = new Float64Array(U * n);
      for (let u = 0; u < U; u++) for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let c = 0; c < C; c++) acc += w[u * C + c] * input.data[c * n + j];
        const bv = b === null ? 0 : layer.untieBiases ? b[u * (n / batch) + Math.floor(j / batch)] : b[u];
        data[u * n + j] = nonlinearity(layer.nonlinearity.kind, layer.nonlinearity.params, acc + bv);
      }
      y = { data, shape: [U, ...input.shape.slice(1)] };
    } else if (name === 'DenseLayer') {
      const [N] = input.shape;
      const K = input.data.length / N;
      const [, U] = layer.W.shape;
      const w = values.get(layer.W);
      const b = layer.b === null ? null : values.get(layer.b);
      const z = new Float64Array(N * U);
      for (let n = 0; n < N; n++) for (let u = 0; u < U; u++) {
        let acc = b === null ? 0 : b[u];
        for (let k = 0; k < K; k++) acc += input.data[n * K + k] * w[k * U + u];
        z[n * U + u] = acc;
      }
      y = act(layer, { data: z, shape: [N, U] });
    } else if (name === 'NonlinearityLayer') {
      y = act(layer, input);
    } else if (name === 'DropoutLayer') {
      if (deterministic || layer.p === 0) y = input;
      else {
        const t = batchLast(input);
        const threshold = Math.round(layer.p * 2 ** 24);
        const scale = layer.rescale ? 1 / (1 - layer.p) : 1;
        const keep = dropoutMaskRef(t.data.length, index, threshold, counter);
        y = batchFirst({ data: t.data.map((v, i) => (keep[i] ? v * scale : 0)), shape: t.shape });
      }
    } else if (name === 'FlattenLayer' || name === 'ReshapeLayer') {
      y = { data: input.data, shape: layer.outputShape.map((d, i) => d ?? input.shape[i]) };
      if (y.shape.some((d) => d === null || d === -1)) y.shape = [input.shape[0], ...layer.outputShape.slice(1)];
    } else if (name === 'GlobalPoolLayer') {
      const [N, C] = input.shape;
      const P = input.data.length / (N * C);
      const data = new Float64Array(N * C);
      for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) {
        let s = 0;
        for (let p = 0; p < P; p++) s += input.data[(n * C + c) * P + p];
        data[n * C + c] = s / P;
      }
      y = { data, shape: [N, C] };
    } else throw new Error(`network oracle: no forward pass for ${name}`);
    out.set(layer, y);
  });
  return out.get(layers[layers.length - 1]);
}

/**
 * The trainer's loss in float64: the objective on the network output (N, U) (targets: Int32Array
 * of indices or dense (N, U)), aggregated, plus l2 sum W^2 + l1 sum |W| over `regularizable`.
 */
export function networkLoss(layers, x, values, targets, { kind = 'categorical_crossentropy', aggregate = 'mean', l1 = 0, l2 = 0, regularizable = [], counter = 1 } = {}) {
  const y = networkForward(layers, x, values, { counter });
  const [N, U] = y.shape;
  const pred = batchLast(y).data;
  const t = targets instanceof Int32Array ? targets : batchLast({ data: Float64Array.from(targets.data), shape: targets.shape }).data;
  let { loss } = lossRef({ kind, targetForm: targets instanceof Int32Array ? 'index' : 'dense', aggregate }, pred, t, U, N);
  for (const p of regularizable) for (const v of values.get(p)) loss += l2 * v * v + l1 * Math.abs(v);
  return loss;
}
