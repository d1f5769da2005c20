/**
 * The kernel step list: what every backend runs, in order. Produced by `plan()` (src/compile/plan.ts)
 * from a network of layers, each layer emitting its own steps (`Layer.lower`); both backends (src/backend/webgpu, src/backend/wasm) run exactly this
 * list, so a network never branches on backend above src/backend.
 *
 * All tensors live in one float32 arena at the plan's byte offsets; every op reads and writes whole
 * tensors in C order. Kernels compute in c01b; `transpose` steps convert at bc01 boundaries and the
 * planner elides inverse pairs, so a stack of `dimshuffle: true` layers transposes once in, once out.
 */
import type { BiasMode, StepNonlinearity } from './codes.js';
import type { ExtraForwardStep } from './training.js';
export type { BiasMode, StepNonlinearity };

export interface StepBase {
  /** Position in the step list. */
  index: number;
  /** The layer this step computes (its name or `<index>:<Class>`), for profiles and messages. */
  layer: string;
  /** Tensor ids (indices into plan.tensors). */
  input: number;
  output: number;
  /**
   * The tensor holding this step's scratch, where its backend needs working memory (WebGPU split-K
   * partial sums, the C kernels' padded input copy): live during this step only, laid out in the
   * arena like every tensor. Absent where the plan was made without a backend (`plan()`).
   */
  scratch?: number;
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
  nonlinearity: StepNonlinearity;
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
  nonlinearity: StepNonlinearity;
  channels: number;
  units: number;
  /** Spatial positions per example (product of the middle axes; 1 for 2-D input). */
  positions: number;
  batch: number;
  /**
   * How W is stored: 'uc' (default; (U, C), NINLayer_c01b) or 'cu' ((C, U): DenseLayer's
   * (num_inputs, num_units)); the kernels always read the (U, C) form, which an inference backend
   * uploads (src/ops/weights.ts ninWeights) and a training plan writes with a transpose step.
   */
  weightLayout?: 'uc' | 'cu';
}

export type KernelStep = TransposeStep | FilterActsStep | MaxPoolStep | NinStep | ExtraForwardStep;

/** What a step is, without the fields the compiler fills in (its position and its layer's label). */
export type StepSpec = KernelStep extends infer S ? (S extends KernelStep ? Omit<S, 'index' | 'layer'> : never) : never;

/**
 * A conv layer's weight gradient as cuda-convnet computes it: partial sums over groups of
 * `effective` modules of the untruncated module grid, and the float32 scratch bytes they take.
 */
export interface WeightGradientPlan {
  layer: string;
  /** cuda-convnet's untruncated module grid. */
  rowsCC: number;
  colsCC: number;
  /** The effective partial_sum (0 resolved to all modules) and its float32 scratch bytes. */
  effective: number;
  scratchBytes: number;
}

/** Float count of a filter_acts step's kernel-layout weight, C*k*k*F. */
export function filterWeightElements(s: Pick<FilterActsStep, 'channels' | 'filterSize' | 'filters'>): number {
  return s.channels * s.filterSize * s.filterSize * s.filters;
}

/** Float counts of the weight and bias a filter_acts or nin step reads (bias 0 without one). */
export function paramElements(s: FilterActsStep | NinStep): { weight: number; bias: number } {
  if (s.op === 'filter_acts') {
    const perFilter = s.biasMode === 'untied' ? s.outRows * s.outCols : 1;
    return { weight: filterWeightElements(s), bias: s.biasMode === 'none' ? 0 : s.filters * perFilter };
  }
  const perUnit = s.biasMode === 'untied' ? s.positions : 1;
  return { weight: s.units * s.channels, bias: s.biasMode === 'none' ? 0 : s.units * perUnit };
}

/**
 * Why a step's output grid does not fit its input, or null: every filter_acts window lies within
 * the padded input, `(out - 1) * stride + k <= in + 2 * pad`, and every max_pool window starts inside
 * the image, `(out - 1) * stride < in` (partial windows are kept). The planner derives output sizes
 * that satisfy it (assembly/shape.ts); backends check hand-written or transported plans with this.
 */
export function outputWindowProblem(s: KernelStep): string | null {
  if (s.op === 'filter_acts') {
    if ((s.outRows - 1) * s.stride + s.filterSize > s.rows + 2 * s.pad || (s.outCols - 1) * s.stride + s.filterSize > s.cols + 2 * s.pad) {
      return `asks for a ${s.outRows}x${s.outCols} output, more than a ${s.rows}x${s.cols} input with pad ${s.pad} gives`;
    }
  }
  if (s.op === 'max_pool' && ((s.outRows - 1) * s.stride >= s.rows || (s.outCols - 1) * s.stride >= s.cols)) {
    return `has a pooling window starting outside the ${s.rows}x${s.cols} input`;
  }
  return null;
}
