/**
 * The filter_acts op (src/ops/steps.ts FilterActsStep) on the WASM backend: c/filter_acts.c, which
 * reads the filters packed (layout.ts packFilters) and takes scratch for its padded input copy. In
 * a training plan the packed filters are made from the kernel-form weight tensor before each call
 * (c/training.c pack_filters), into the step's scratch right after the kernel's own.
 */
import { BIAS_CODES, activationOf } from '../../../ops/codes.js';
import { filterWeightElements, type FilterActsStep } from '../../../ops/steps.js';
import type { KernelsExports } from '../kernels_abi.js';
import { checkFusedParams, fusedOperands, fusedParams, type ForwardAddresses, type ForwardOp } from './op.js';

const align16 = (n: number) => Math.ceil(n / 16) * 16;

function scratch(k: KernelsExports, s: FilterActsStep): number {
  return k.filter_acts_scratch_bytes(s.channels, s.rows, s.cols, s.batch, s.filterSize, s.pad) >>> 0;
}

/** Where the packed filters start in its training scratch: past the kernel's own scratch. */
const packedOffset = (k: KernelsExports, s: FilterActsStep): number => align16(scratch(k, s));

function call(k: KernelsExports, s: FilterActsStep, at: ForwardAddresses): (counter: number) => number {
  const src = at.tensor(s.input);
  const dst = at.tensor(s.output);
  const { code: act, params: [p0, p1] } = activationOf(s.nonlinearity, s.layer);
  const mode = BIAS_CODES[s.biasMode];
  const { weight: w, bias: b, scratch } = at;
  return () =>
    k.filter_acts(src, w, b, dst, scratch, s.channels, s.rows, s.cols, s.batch, s.filters, s.filterSize, s.stride, s.pad, s.outRows, s.outCols, mode, act, p0, p1);
}

export const filterActs: ForwardOp<FilterActsStep> = {
  kind: 'forward',
  elements: (s) => ({ input: s.channels * s.rows * s.cols * s.batch, output: s.filters * s.outRows * s.outCols * s.batch }),
  dims: (s) => [s.channels, s.rows, s.cols, s.batch, s.filters, s.filterSize, s.stride, s.outRows, s.outCols],
  check(s, fail) {
    if (!(Number.isInteger(s.pad) && s.pad >= 0)) fail(`has pad ${s.pad}`);
  },
  checkFused: checkFusedParams,
  params: (s) =>
    fusedParams(s, { kind: 'filters', weightLayout: s.weightLayout, flipFilters: s.flipFilters, channels: s.channels, filterSize: s.filterSize, filters: s.filters }),
  scratch,
  call,
  training: {
    scratch: (k, s) => packedOffset(k, s) + 4 * filterWeightElements(s),
    call(k, s, t, scratch) {
      const packed = scratch + packedOffset(k, s);
      const K = filterWeightElements(s) / s.filters;
      const run = call(k, s, { tensor: t, weight: packed, bias: s.biasMode === 'none' ? 0 : t(s.bias), scratch });
      const w = t(s.weight);
      return (h) => k.pack_filters(w, packed, K, s.filters) || run(h.counter);
    },
  },
  operands: fusedOperands,
  flops: (s) => 2 * filterWeightElements(s) * s.outRows * s.outCols * s.batch,
};
