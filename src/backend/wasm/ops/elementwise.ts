/**
 * The ops of c/elementwise.c on the WASM backend (src/ops/training.ts): copy, activation and
 * dropout over `count` floats (they keep the batch axis where it is), softmax over the units of
 * each example, the global pool, and the gradients of the softmax and of the global pool.
 */
import { activationOf } from '../../../ops/codes.js';
import type {
  ActivationStep, CopyStep, DropoutStep, GlobalPoolGradStep, GlobalPoolStep, SoftmaxGradStep, SoftmaxStep,
} from '../../../ops/training.js';
import { operands, unaryOperands, type DropoutPlacement, type ForwardOp, type TrainingOp } from './op.js';

type Counted = CopyStep | ActivationStep | DropoutStep;

/** What copy, activation and dropout share: `count` floats in, `count` out, `count / batch` per example. */
function counted<S extends Counted>(): Omit<ForwardOp<S>, 'call'> {
  return {
    kind: 'forward',
    elements: (s) => ({ input: s.count, output: s.count }),
    dims: (s) => [s.count, s.batch],
    check(s, fail) {
      if (s.count % s.batch !== 0) fail(`has count ${s.count}, not a multiple of its batch ${s.batch}`);
    },
    operands: unaryOperands,
    withBatch: (s, sub) => ({ ...s, batch: sub, count: (s.count / s.batch) * sub }),
    keepsBatchAxis: true,
  };
}

export const copy: ForwardOp<CopyStep> = {
  ...counted<CopyStep>(),
  call(k, s, at) {
    const src = at.tensor(s.input);
    const dst = at.tensor(s.output);
    return () => k.copy_floats(src, dst, s.count);
  },
};

export const activation: ForwardOp<ActivationStep> = {
  ...counted<ActivationStep>(),
  checkFused(s) {
    activationOf(s.nonlinearity, s.layer);
  },
  call(k, s, at) {
    const src = at.tensor(s.input);
    const dst = at.tensor(s.output);
    const { code: act, params: [p0, p1] } = activationOf(s.nonlinearity, s.layer);
    return () => k.activation(src, dst, s.count, act, p0, p1);
  },
};

/** The whole tensor: a dropout call's placement outside a thread's batch slice. */
const wholeTensor: DropoutPlacement = (s) => [s.count / s.batch, s.batch, s.batch, 0];

const dropoutBase = counted<DropoutStep>();

export const dropout: ForwardOp<DropoutStep> = {
  ...dropoutBase,
  trainingOnly: true,
  check(s, fail) {
    dropoutBase.check?.(s, fail);
    if (!(Number.isInteger(s.threshold) && s.threshold >= 0 && s.threshold <= 2 ** 24)) fail(`has threshold ${s.threshold}, not an integer in [0, 2^24]`);
    if (!(Number.isInteger(s.seed) && s.seed >= 0 && s.seed < 2 ** 32)) fail(`has seed ${s.seed}, not a u32`);
    // p = 1 with rescale gives scale Infinity: nothing is kept (threshold 2^24), so it is never used
    if (Number.isNaN(s.scale)) fail(`has scale ${s.scale}`);
  },
  call(k, s, at, placement = wholeTensor) {
    const src = at.tensor(s.input);
    const dst = at.tensor(s.output);
    const [rows, cols, rowStride, col0] = placement(s);
    return (counter) => k.dropout(src, dst, rows, cols, rowStride, col0, s.seed, counter, s.threshold, s.scale);
  },
  slicePlacement(s, axis, batch, b0) {
    const perEntry = s.count / s.batch;
    return axis === 'first' ? [1, s.count, 0, b0 * perEntry] : [perEntry, s.batch, batch, b0];
  },
};

export const softmax: ForwardOp<SoftmaxStep> = {
  kind: 'forward',
  elements: (s) => ({ input: s.units * s.batch, output: s.units * s.batch }),
  dims: (s) => [s.units, s.batch],
  check(s, fail) {
    if (s.input === s.output) fail('computes a softmax in place, which its kernel cannot');
  },
  call(k, s, at) {
    const src = at.tensor(s.input);
    const dst = at.tensor(s.output);
    return () => k.softmax(src, dst, s.units, s.batch);
  },
  operands: unaryOperands,
};

export const globalPool: ForwardOp<GlobalPoolStep> = {
  kind: 'forward',
  elements: (s) => ({ input: s.channels * s.positions * s.batch, output: s.channels * s.batch }),
  dims: (s) => [s.channels, s.positions, s.batch],
  call(k, s, at) {
    const src = at.tensor(s.input);
    const dst = at.tensor(s.output);
    return () => k.global_pool(src, dst, s.channels, s.positions, s.batch);
  },
  operands: unaryOperands,
};

export const softmaxGrad: TrainingOp<SoftmaxGradStep> = {
  kind: 'training',
  check(s, c) {
    c.dims(s.units, s.batch);
    c.tensor(s.output, s.units * s.batch, 'softmax output');
    c.tensor(s.outputGrad, s.units * s.batch, 'output gradient');
    c.tensor(s.inputGrad, s.units * s.batch, 'input gradient');
  },
  call: (k, s, t) => () => k.softmax_grad(t(s.output), t(s.outputGrad), t(s.inputGrad), s.units, s.batch),
  operands: (s) => operands([s.output, s.outputGrad], [s.inputGrad], [s.output, s.outputGrad, s.inputGrad], []),
};

export const globalPoolGrad: TrainingOp<GlobalPoolGradStep> = {
  kind: 'training',
  check(s, c) {
    c.dims(s.channels, s.positions, s.batch);
    c.tensor(s.outputGrad, s.channels * s.batch, 'output gradient');
    c.tensor(s.inputGrad, s.channels * s.positions * s.batch, 'input gradient');
  },
  call: (k, s, t) => () => k.global_pool_grad(t(s.outputGrad), t(s.inputGrad), s.channels, s.positions, s.batch),
  operands: (s) => operands([s.outputGrad], [s.inputGrad], [s.outputGrad, s.inputGrad], []),
};
