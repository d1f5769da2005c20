/**
 * A float64 interpreter of plan steps for the layer tests: it runs the forward ops (transpose,
 * filter_acts, max_pool, nin, copy, activation, softmax, dropout, global_pool) with the oracles of
 * test/reference, so a test can check that a layer's lowering
 * (rotations, weight layouts, shapes) computes Lasagne's formula. Not a backend.
 */
import { cropAxes12, transpose } from '../reference/array.mjs';
import { filterActsC01b } from '../reference/conv.mjs';
import { max_pool_2d } from '../reference/pool.mjs';
import { nonlinearity } from '../reference/layers.mjs';
import { activationRef, dropoutRef, globalPoolRef, softmaxRef, weightFormRef } from '../reference/training_ops.mjs';

const size = (shape) => shape.reduce((n, d) => n * d, 1);

/** `out[u, n] = act(bias + sum_c w[u, c] x[c, n])` for the (U, C) weight (transposed from (C, U) for 'cu'). */
function nin(s, x, W, b) {
  const { channels: C, units: U, positions: P, batch: B } = s;
  const N = P * B;
  const w = s.weightLayout === 'cu' ? transpose({ data: Float64Array.from(W.data), shape: [C, U] }, [1, 0]).data : Float64Array.from(W.data);
  const out = new Float64Array(U * N);
  for (let u = 0; u < U; u++) {
    for (let n = 0; n < N; n++) {
      let z = s.biasMode === 'tied' ? b.data[u] : s.biasMode === 'untied' ? b.data[u * P + Math.floor(n / B)] : 0;
      for (let c = 0; c < C; c++) z += w[u * C + c] * x[c * N + n];
      out[u * N + n] = nonlinearity(s.nonlinearity.kind, s.nonlinearity.params, z);
    }
  }
  return out;
}

/** FilterActs on the kernel form of W, cropped to Lasagne's size, plus bias, then the nonlinearity. */
function filterActs(s, x, W, b) {
  const { channels: C, rows, cols, batch: B, filters: F, filterSize: k } = s;
  const kernel = { data: weightFormRef(W.data, s.weightLayout, s.flipFilters, C, k, F), shape: [C, k, k, F] };
  const z = cropAxes12(filterActsC01b({ data: x, shape: [C, rows, cols, B] }, kernel, s.pad, s.stride), s.outRows, s.outCols);
  const [R, S] = [s.outRows, s.outCols];
  for (let f = 0; f < F; f++) for (let r = 0; r < R; r++) for (let c = 0; c < S; c++) for (let n = 0; n < B; n++) {
    const i = ((f * R + r) * S + c) * B + n;
    const bias = s.biasMode === 'tied' ? b.data[f] : s.biasMode === 'untied' ? b.data[(f * R + r) * S + c] : 0;
    z.data[i] = nonlinearity(s.nonlinearity.kind, s.nonlinearity.params, z.data[i] + bias);
  }
  return z.data;
}

/** cuda-convnet's max pooling of a c01b tensor, through the bc01 oracle. */
function maxPool(s, x) {
  const bc01 = transpose({ data: x, shape: [s.channels, s.rows, s.cols, s.batch] }, [3, 0, 1, 2]);
  return transpose(max_pool_2d(bc01, [s.poolSize, s.poolSize], [s.stride, s.stride]), [1, 2, 3, 0]).data;
}

/**
 * Runs `plan` (an inference or a training-time plan of these ops) on `inputs` (NDArrays in
 * plan.inputs order) with `params` (NDArrays in plan.params order) and the dropout `counter`.
 * Returns the outputs as { data: Float64Array, shape }.
 */
export function runPlan(plan, params, inputs, { counter = 0 } = {}) {
  const t = new Map();
  plan.inputs.forEach((id, i) => t.set(id, Float64Array.from(inputs[i].data)));
  for (const s of plan.steps) {
    const x = t.get(s.input);
    if (x === undefined) throw new Error(`step ${s.index} (${s.op}) reads tensor ${s.input}, which no earlier step wrote`);
    let out;
    if (s.op === 'transpose') out = transpose({ data: x, shape: s.inShape }, s.perm).data;
    else if (s.op === 'filter_acts') out = filterActs(s, x, params[s.weight], s.bias >= 0 ? params[s.bias] : null);
    else if (s.op === 'max_pool') out = maxPool(s, x);
    else if (s.op === 'nin') out = nin(s, x, params[s.weight], s.bias >= 0 ? params[s.bias] : null);
    else if (s.op === 'copy') out = x.slice(0, s.count);
    else if (s.op === 'activation') out = activationRef(s.nonlinearity.kind, s.nonlinearity.params, x);
    else if (s.op === 'softmax') out = softmaxRef(x, s.units, s.batch);
    else if (s.op === 'dropout') out = dropoutRef(x, s.seed, s.threshold, s.scale, counter);
    else if (s.op === 'global_pool') out = globalPoolRef(x, s.channels, s.positions, s.batch);
    else throw new Error(`runPlan: no interpreter for op ${s.op}`);
    const want = size(plan.tensors[s.output].shape);
    if (x.length !== size(plan.tensors[s.input].shape)) throw new Error(`step ${s.index}: input tensor size mismatch`);
    if (out.length !== want) throw new Error(`step ${s.index} (${s.op}) wrote ${out.length} values into tensor ${s.output} of ${want}`);
    t.set(s.output, out);
  }
  return plan.outputs.map((id) => ({ data: t.get(id), shape: [...plan.tensors[id].shape] }));
}
