/**
 * The backward step types: what a training plan runs after the forward steps, in reverse layer
 * order, on both backends (C kernels in src/backend/wasm/c, WGSL kernels in wgsl/). Like the forward steps
 * (src/ops/steps.ts) every tensor is float32 in C order, batch innermost (c01b for the conv and
 * pool ops); fields named like the forward ones mean the same. Tensor fields are tensor ids of the
 * training plan; gradients of parameters are tensors too (the plan lays them out with the rest).
 *
 * Per layer (the order a training plan emits them):
 *   conv  (Conv2DCCLayer):  bias_act_grad -> weight_acts -> img_acts (if the input needs a gradient)
 *                           -> weight_grad_layout (kernel-layout dW to the parameter's layout)
 *   NIN   (NINLayer_c01b):  bias_act_grad -> nin_grad_weight -> nin_grad_input
 *   pool  (MaxPool2DCCLayer): max_pool_grad
 *   shuffles: a forward TransposeStep with the inverse permutation (transposeGradStep)
 * A float64 reference of each op is test/reference/backward.mjs.
 */
import { NotImplementedError, ValueError } from '../errors.js';
import { partialSum as plannerPartialSum } from '../planner/planner.js';
import type { NonlinearityKind } from './codes.js';
import type { BiasMode, FilterActsStep, StepNonlinearity, TransposeStep } from './steps.js';

export interface BackwardStepBase {
  /** Position in the training plan's step list. */
  index: number;
  /** The layer whose gradient this is (its name or `<index>:<Class>`). */
  layer: string;
  /**
   * The tensor holding this step's scratch where its backend needs working memory (as for the
   * forward steps, src/ops/steps.ts StepBase): weight_acts' partial sums (both backends; on WebGPU
   * possibly sliced further, backward.ts weightActsSplit), img_acts' transposed dz (C),
   * nin_grad_weight's K slices and bias_act_grad's segment sums (WebGPU). Absent where no backend
   * has sized it yet.
   */
  scratch?: number;
}

/**
 * The nonlinearity's derivative fused with the bias gradient, one pass over the output gradient,
 * laid out (F, positions, B) (a conv output c01b, or NIN's (U, N)):
 *
 *   preActGrad[f, p, b] = outputGrad[f, p, b] * act'(output[f, p, b])      (in place allowed)
 *   tied: biasGrad[f] = sum_{p, b} preActGrad;  untied: biasGrad[f, p] = sum_b preActGrad
 *
 * act' is read from the forward OUTPUT (the only activation the fused forward keeps); see
 * checkDerivativeFromOutput for the formulas and the kink convention.
 */
export interface BiasActGradStep extends BackwardStepBase {
  op: 'bias_act_grad';
  /** The forward output y (read only when the nonlinearity is not linear). */
  output: number;
  outputGrad: number;
  /** dz; may be the same tensor as outputGrad. */
  preActGrad: number;
  /** The bias gradient tensor, or -1 when biasMode is 'none'. */
  biasGrad: number;
  biasMode: BiasMode;
  nonlinearity: StepNonlinearity;
  units: number;
  positions: number;
  batch: number;
}

/** Geometry shared with the forward conv step (see FilterActsStep). */
export type ConvGeometry = Pick<FilterActsStep, 'channels' | 'rows' | 'cols' | 'batch' | 'filters' | 'filterSize' | 'stride' | 'pad' | 'outRows' | 'outCols'>;

/**
 * The conv input gradient (cuda-convnet ImageActs):
 *   inputGrad[c, y, x, b] = sum_{f, i, j: y = oy*s + i - pad, x = ox*s + j - pad, oy < outRows, ox < outCols}
 *                           w[c, i, j, f] * preActGrad[f, oy, ox, b]
 * with w the kernel-layout (C, k, k, F) weight the forward used (flipped when the layer flips, src/ops/weights.ts kernelWeights).
 */
export interface ImgActsStep extends BackwardStepBase, ConvGeometry {
  op: 'img_acts';
  preActGrad: number;
  /** Index of W in the plan's params (uploaded in kernel layout, as for the forward). */
  weight: number;
  inputGrad: number;
}

/**
 * The conv weight gradient with cuda-convnet's partial sums (WeightActs): modules of the
 * untruncated (rowsCC, colsCC) grid in raster order, groups of `effectivePartialSum` consecutive
 * ones summed into `(groups, C, k, k, F)` partials in scratch, then reduced into the kernel-layout
 * (C, k, k, F) gradient; with one group there is no scratch and the gradient is written directly:
 *   weightGrad[c, i, j, f] = sum_g sum_{m in group g, oy < outRows, ox < outCols} sum_b
 *                            input[c, oy*s + i - pad, ox*s + j - pad, b] * preActGrad[f, oy, ox, b]
 */
export interface WeightActsStep extends BackwardStepBase, ConvGeometry {
  op: 'weight_acts';
  input: number;
  preActGrad: number;
  /** Kernel-layout (C, k, k, F) gradient tensor. */
  weightGrad: number;
  /** The layer's partialSum as given (0 for Lasagne's 0/None). */
  partialSum: number;
  /** P: partialSum, or M when it is 0. */
  effectivePartialSum: number;
  rowsCC: number;
  colsCC: number;
  /** M = rowsCC * colsCC. */
  modules: number;
  /** M / P. */
  groups: number;
  /** 4 (M / P) C k^2 F bytes of partials, 0 when P = M. */
  scratchBytes: number;
}

/**
 * The kernel-layout (C, k, k, F) weight gradient written into the parameter's layout ((F, C, k, k)
 * for 'fckk', (C, k, k, F) for 'ckkf'), unflipped when the layer flips: the inverse of the forward's
 * kernelWeights permutation, an exact copy.
 */
export interface WeightGradLayoutStep extends BackwardStepBase {
  op: 'weight_grad_layout';
  weightGrad: number;
  paramGrad: number;
  weightLayout: 'fckk' | 'ckkf';
  flipFilters: boolean;
  channels: number;
  filterSize: number;
  filters: number;
}

/**
 * The max-pool gradient (cuda-convnet MaxPoolGrad) with partial windows; every tied maximum
 * receives the gradient, no channel-count limit:
 *   inputGrad[c, y, x, b] = sum over windows (oy, ox) containing (y, x) of (input == output[c, oy, ox, b]) * outputGrad[c, oy, ox, b]
 */
export interface MaxPoolGradStep extends BackwardStepBase {
  op: 'max_pool_grad';
  input: number;
  output: number;
  outputGrad: number;
  inputGrad: number;
  channels: number;
  rows: number;
  cols: number;
  batch: number;
  poolSize: number;
  stride: number;
  outRows: number;
  outCols: number;
}

/** NIN input gradient: inputGrad[c, n] = sum_u W[u, c] preActGrad[u, n], N = positions * batch. */
export interface NinGradInputStep extends BackwardStepBase {
  op: 'nin_grad_input';
  preActGrad: number;
  weight: number;
  inputGrad: number;
  channels: number;
  units: number;
  positions: number;
  batch: number;
}

/** NIN weight gradient: weightGrad[u, c] = sum_n preActGrad[u, n] input[c, n] (the (U, C) layout of W). */
export interface NinGradWeightStep extends BackwardStepBase {
  op: 'nin_grad_weight';
  input: number;
  preActGrad: number;
  weightGrad: number;
  channels: number;
  units: number;
  positions: number;
  batch: number;
}

export type BackwardStep = BiasActGradStep | ImgActsStep | WeightActsStep | WeightGradLayoutStep | MaxPoolGradStep | NinGradInputStep | NinGradWeightStep;

/** cuda-convnet's untruncated output grid length along an axis: ceil((I + 2 pad - k) / s) + 1. */
export function ccGridLength(size: number, filterSize: number, stride: number, pad: number): number {
  return Math.ceil((size + 2 * pad - filterSize) / stride) + 1;
}

/**
 * Refuses a nonlinearity whose derivative cannot be read from its output. The derivative from
 * y = act(x): linear 1; rectify y > 0 ? 1 : 0; leaky_rectify y > 0 ? 1 : leakiness; sigmoid
 * y (1 - y); tanh 1 - y^2; scaled_tanh scaleIn scaleOut (1 - (y / scaleOut)^2); elu y > 0 ? 1 : y + 1;
 * selu y > 0 ? scale : y + scale scaleNeg; softplus 1 - e^{-y}. At a kink (x = 0) it is the x <= 0
 * side (y cannot tell x = 0 from x < 0), which differs from Theano's symbolic gradient at that one
 * point only. The branch is read from the sign of y, which needs leakiness >= 0, and selu's
 * scale > 0 and scaleNeg >= 0; softmax is never fused (the objective fuses it with the loss).
 */
export function checkDerivativeFromOutput(layer: string, kind: NonlinearityKind, params: readonly number[]): void {
  if (kind === 'softmax') {
    throw new NotImplementedError(`${layer}: softmax has no elementwise derivative to fuse into the layer's backward pass; it is differentiated with the loss`);
  }
  if (kind === 'leaky_rectify' && !(params[0] >= 0)) {
    throw new NotImplementedError(`${layer}: the gradient of leaky_rectify needs leakiness >= 0 (the branch is read from the output's sign), but leakiness=${params[0]}`);
  }
  if (kind === 'selu' && !(params[0] > 0 && params[1] >= 0)) {
    throw new NotImplementedError(`${layer}: the gradient of selu needs scale > 0 and scaleNeg >= 0 (the branch is read from the output's sign), but scale=${params[0]}, scaleNeg=${params[1]}`);
  }
}

/** The backward counterpart of a forward transpose: the inverse permutation, from the output's shape. */
export function transposeGradStep(step: TransposeStep, outputGrad: number, inputGrad: number, index: number): TransposeStep {
  const [d0, d1, d2, d3] = step.inShape;
  if (step.perm[0] === 1) {
    // forward (d0, d1, d2, d3) -> (d1, d2, d3, d0); its gradient maps (d1, d2, d3, d0) back with [3, 0, 1, 2]
    return { op: 'transpose', index, layer: step.layer, input: outputGrad, output: inputGrad, perm: [3, 0, 1, 2], inShape: [d1, d2, d3, d0] };
  }
  return { op: 'transpose', index, layer: step.layer, input: outputGrad, output: inputGrad, perm: [1, 2, 3, 0], inShape: [d3, d0, d1, d2] };
}

/**
 * Builds the weight_acts step of a conv step: checks partialSum against cuda-convnet's untruncated
 * module grid (pylearn2's ValueError "partialSum must divide numModules, ..." when it does not
 * divide it) and sizes the scratch of the partial sums.
 */
export function weightActsStep(
  conv: ConvGeometry & { layer: string },
  partialSum: number | null,
  tensors: { input: number; preActGrad: number; weightGrad: number; index: number },
): WeightActsStep {
  const requested = partialSum ?? 0;
  if (!Number.isInteger(requested)) throw new ValueError(`${conv.layer} requires partial_sum to be an integer, but partial_sum=${String(partialSum)}`);
  const rowsCC = ccGridLength(conv.rows, conv.filterSize, conv.stride, conv.pad);
  const colsCC = ccGridLength(conv.cols, conv.filterSize, conv.stride, conv.pad);
  const { effective, scratchBytes } = plannerPartialSum(conv.layer, rowsCC, colsCC, requested, conv.channels, conv.filterSize, conv.filters);
  const modules = rowsCC * colsCC;
  return {
    op: 'weight_acts',
    index: tensors.index,
    layer: conv.layer,
    input: tensors.input,
    preActGrad: tensors.preActGrad,
    weightGrad: tensors.weightGrad,
    channels: conv.channels,
    rows: conv.rows,
    cols: conv.cols,
    batch: conv.batch,
    filters: conv.filters,
    filterSize: conv.filterSize,
    stride: conv.stride,
    pad: conv.pad,
    outRows: conv.outRows,
    outCols: conv.outCols,
    partialSum: requested,
    effectivePartialSum: effective,
    rowsCC,
    colsCC,
    modules,
    groups: modules / effective,
    scratchBytes,
  };
}
