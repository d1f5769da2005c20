/**
 * The kernel step list: what every backend runs, in order. Produced by `plan()` (src/plan/network.ts)
 * from a network of layers; both backends (src/backend/webgpu, src/backend/wasm) run exactly this
 * list, so a network never branches on backend above src/backend.
 *
 * All tensors live in one float32 arena at the plan's byte offsets; every op reads and writes whole
 * tensors in C order. Kernels compute in c01b; `transpose` steps convert at bc01 boundaries and the
 * planner elides inverse pairs, so a stack of `dimshuffle: true` layers transposes once in, once out.
 */
import type { NonlinearityKind } from '../nonlinearities.js';

/** Bias mode: none, one per filter/unit (`b[f]`), or one per filter/unit and output position (`b[f, y, x]`). */
export type BiasMode = 'none' | 'tied' | 'untied';

export interface StepBase {
  /** Position in the step list. */
  index: number;
  /** The layer this step computes (its name or `<index>:<Class>`), for profiles and messages. */
  layer: string;
  /** Tensor ids (indices into plan.tensors). */
  input: number;
  output: number;
}

/**
 * 4-D transpose. `perm` [1, 2, 3, 0]: (d0, d1, d2, d3) -> (d1, d2, d3, d0), e.g. bc01 -> c01b;
 * [3, 0, 1, 2]: -> (d3, d0, d1, d2), e.g. c01b -> bc01. `out[perm-indexed] = in[...]`, exact copy.
 */
export interface TransposeStep extends StepBase {
  op: 'transpose';
  perm: [1, 2, 3, 0] | [3, 0, 1, 2];
  /** Input shape (d0, d1, d2, d3). */
  inShape: [number, number, number, number];
}

/**
 * cuda-convnet FilterActs (a correlation) with zero padding, truncated to Lasagne's output size,
 * fused with bias and nonlinearity. Input c01b (C, H, W, B), output c01b (F, outH, outW, B):
 *
 *   out[f, oy, ox, b] = act(bias + sum_{c, i, j} in[c, oy*s + i - pad, ox*s + j - pad, b] * w[c, i, j, f])
 *
 * (in outside [0, H) x [0, W) is 0). `w` is the kernel-layout (C, k, k, F) weight, already flipped
 * when the layer has flipFilters: backends build it from the parameter with `kernelWeights()`.
 * bias: tied `b[f]`; untied `b[f, oy, ox]`.
 */
export interface FilterActsStep extends StepBase {
  op: 'filter_acts';
  /** Index of W in plan.params. */
  weight: number;
  /** Layout of the W parameter as stored: 'fckk' = (F, C, k, k) (dimshuffle true), 'ckkf' = (C, k, k, F). */
  weightLayout: 'fckk' | 'ckkf';
  flipFilters: boolean;
  /** Index of b in plan.params, or -1. */
  bias: number;
  biasMode: BiasMode;
  nonlinearity: { kind: NonlinearityKind; params: number[] };
  channels: number;
  rows: number;
  cols: number;
  batch: number;
  filters: number;
  filterSize: number;
  stride: number;
  /** Resolved integer pad on every side. */
  pad: number;
  outRows: number;
  outCols: number;
}

/**
 * cuda-convnet MaxPool with partial windows. Input c01b (C, H, W, B), output (C, outH, outW, B):
 *   out[c, oy, ox, b] = max over y in [oy*s, min(oy*s + P, H)), x in [ox*s, min(ox*s + P, W)) of in[c, y, x, b]
 * (positions outside the image are excluded, never read as 0). NaN: any NaN in the window may or
 * may not propagate (cuda-convnet uses fmaxf); tests use finite inputs.
 */
export interface MaxPoolStep extends StepBase {
  op: 'max_pool';
  channels: number;
  rows: number;
  cols: number;
  batch: number;
  poolSize: number;
  stride: number;
  outRows: number;
  outCols: number;
}

/**
 * NINLayer_c01b: a GEMM over the leading axis, fused with bias and nonlinearity. Input viewed as
 * (C, N) with N = positions * batch (batch innermost), output (U, N):
 *   out[u, n] = act(bias + sum_c w[u, c] * in[c, n]);  tied bias b[u], untied b[u, floor(n / batch)].
 */
export interface NinStep extends StepBase {
  op: 'nin';
  weight: number;
  bias: number;
  biasMode: BiasMode;
  nonlinearity: { kind: NonlinearityKind; params: number[] };
  channels: number;
  units: number;
  /** Spatial positions per example (product of the middle axes; 1 for 2-D input). */
  positions: number;
  batch: number;
}

export type KernelStep = TransposeStep | FilterActsStep | MaxPoolStep | NinStep;
