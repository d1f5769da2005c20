/**
 * What the WASM backend knows about one op, as a descriptor (one file of src/backend/wasm/ops per C
 * kernel file of src/backend/wasm/c, the registry in ops/index.ts): the descriptor types of the
 * three kinds of op (forward, backward, training-only), the addresses their calls take, and the
 * helpers several descriptors share.
 */
import type { BackwardStep, ConvGeometry } from '../../../ops/backward.js';
import { activationOf } from '../../../ops/codes.js';
import { filterWeightElements, paramElements, type FilterActsStep, type KernelStep, type NinStep } from '../../../ops/steps.js';
import type {
  DropoutStep, GlobalPoolGradStep, LossStep, PenaltyStep, SoftmaxGradStep, TrainingHyper, UpdateStep, WeightFormStep,
} from '../../../ops/training.js';
import type { KernelsExports } from '../kernels_abi.js';
import type { SlotForm } from '../layout.js';

/** The steps of training plans only that are neither forward nor backward steps. */
export type TrainingOnlyStep = WeightFormStep | LossStep | PenaltyStep | UpdateStep | SoftmaxGradStep | GlobalPoolGradStep;

/** Every step the WASM backend runs. */
export type WasmStep = KernelStep | BackwardStep | TrainingOnlyStep;

export type Op = WasmStep['op'];

export type StepOf<O extends Op> = Extract<WasmStep, { op: O }>;

/** Throws the caller's error for what is wrong with the step being checked. */
export type Fail = (what: string) => never;

/**
 * Where a forward step's operands are: arena tensors by id, and the parameters in the form their
 * kernel reads (filter_acts: packed filters, layout.ts packFilters; nin: (U, C)); 0 where absent.
 */
export interface ForwardAddresses {
  tensor(id: number): number;
  weight: number;
  bias: number;
  scratch: number;
}

/**
 * Where a dropout call's elements sit in the full tensor (the C kernel's rows, cols, rowStride,
 * col0): the whole tensor by default; a thread's batch slice passes its own (training_threads.ts).
 */
export type DropoutPlacement = (s: DropoutStep) => [rows: number, cols: number, rowStride: number, col0: number];

/** Byte addresses of a backward step's operands (its scratch is the tensor `step.scratch`, 16-byte aligned). */
export interface WasmBackwardAddresses {
  /** Address of an arena tensor by id. */
  tensor(id: number): number;
  /**
   * Address of a parameter's kernel form by index: conv W in kernel layout (C, k, k, F) (flipped as
   * the forward uses it, not packed), NIN W (U, C) as stored.
   */
  weight(index: number): number;
}

/** One training step's call: the kernel's code for this run's hyperparameters. */
export type TrainingCall = (hyper: TrainingHyper) => number;

/** A step's operands: the tensors it reads and writes, and which of them are batch-free by role. */
export interface Operands {
  reads: number[];
  writes: number[];
  /** Operands that have a batch axis by their role, and those that never do; transposes: neither. */
  batch: number[];
  global: number[];
}

const valid = (id: unknown): id is number => typeof id === 'number' && id >= 0;

/** Operands from the step's tensor ids, absent ones (-1) left out. */
export function operands(reads: number[], writes: number[], batch: number[], global: number[]): Operands {
  return { reads: reads.filter(valid), writes: writes.filter(valid), batch: batch.filter(valid), global: global.filter(valid) };
}

/** The operands of a step from one batch tensor to another. */
export function unaryOperands(s: { input: number; output: number }): Operands {
  return operands([s.input], [s.output], [s.input, s.output], []);
}

/**
 * The checks of a training step (training.ts checkTrainingStep): `fail` words the error, `tensor`
 * checks that an operand exists and holds `elements` floats, `dims` that sizes are positive integers.
 */
export interface TrainingChecks {
  fail: Fail;
  tensor(id: unknown, elements: number, what: string): void;
  dims(...d: unknown[]): void;
}

/** Which end of a tensor's shape its batch axis is. */
export type BatchAxis = 'first' | 'last';

interface OpBase<S extends WasmStep> {
  /** The step's operands by role, for the split of a training plan over threads (training_threads.ts). */
  operands(s: S): Operands;
  /** The step on `sub` examples of its batch, where more than its `batch` field changes (ops/index.ts subBatchStep). */
  withBatch?(s: S, sub: number): S;
}

/** The weight and bias a forward step reads: parameter indices (inference) or tensor ids (training). */
export interface StepParams {
  weight: number;
  /** null without a bias. */
  bias: number | null;
  elements: { weight: number; bias: number };
  /** The form an inference plan keeps the weight in (layout.ts Slot). */
  form: SlotForm;
}

/** A forward op (src/ops/steps.ts KernelStep): run by inference plans and training plans. */
export interface ForwardOp<S extends KernelStep> extends OpBase<S> {
  kind: 'forward';
  /** Only training plans hold it (a deterministic pass emits none). */
  trainingOnly?: true;
  /** Elements the step reads and writes, from its own geometry. */
  elements(s: S): { input: number; output: number };
  /** The sizes of the step that must be positive integers. */
  dims(s: S): unknown[];
  /** Checks of its other fields, after the sizes (layout.ts checkStep). */
  check?(s: S, fail: Fail): void;
  /** Checks of its fused nonlinearity and parameters, after its tensors; `training`: the parameters are tensors. */
  checkFused?(s: S, fail: Fail, training: boolean): void;
  params?(s: S): StepParams;
  /** Scratch bytes its kernel asks for (0 where absent). */
  scratch?(k: KernelsExports, s: S): number;
  /** Its kernel call: a function of the run's dropout counter returning the kernel's code. */
  call(k: KernelsExports, s: S, at: ForwardAddresses, placement?: DropoutPlacement): (counter: number) => number;
  /** Where a training plan runs it otherwise than `call` with its tensors as parameters: the scratch it needs then, and the call. */
  training?: {
    scratch(k: KernelsExports, s: S): number;
    call(k: KernelsExports, s: S, tensor: (id: number) => number, scratch: number): TrainingCall;
  };
  /** Floating-point operations of one run (multiply-adds count 2); absent: one per output element. */
  flops?(s: S): number;
  /** The batch size where the step has no `batch` field. */
  batchOf?(s: S): number;
  /** Where the step moves the batch axis: that of its input and of its output (absent: both last). */
  batchAxes?(s: S): [BatchAxis, BatchAxis];
  /** Elementwise: its tensors keep the batch where it is, whichever axis. */
  keepsBatchAxis?: true;
  /**
   * Where a thread's slice (`s` on examples [b0, b0 + s.batch) of `batch`, its input's batch on
   * `axis`) sits in the full tensor, for an op whose call depends on it (dropout's mask).
   */
  slicePlacement?(s: S, axis: BatchAxis, batch: number, b0: number): ReturnType<DropoutPlacement>;
}

/** A backward op (src/ops/backward.ts BackwardStep): training plans only. */
export interface BackwardOp<S extends BackwardStep> extends OpBase<S> {
  kind: 'backward';
  check(s: S, c: TrainingChecks): void;
  scratch?(k: KernelsExports, s: S): number;
  /** Runs the kernel; returns its code. */
  run(k: KernelsExports, s: S, at: WasmBackwardAddresses, scratch: number): number;
}

/** A training-only op (weight forms, the loss, penalties, updates, the extra layers' gradients). */
export interface TrainingOp<S extends TrainingOnlyStep> extends OpBase<S> {
  kind: 'training';
  check(s: S, c: TrainingChecks): void;
  /** Its call; `batch`: the FULL batch (the loss weighs with it, also on a thread's slice). */
  call(k: KernelsExports, s: S, tensor: (id: number) => number, batch: number): TrainingCall;
}

/** The descriptor kind of a step type. */
export type DescriptorOf<S extends WasmStep> =
  S extends KernelStep ? ForwardOp<S> : S extends BackwardStep ? BackwardOp<S> : S extends TrainingOnlyStep ? TrainingOp<S> : never;

/** The checks of a fused filter_acts or nin step: its nonlinearity, then its bias and weight. */
export function checkFusedParams(s: FilterActsStep | NinStep, fail: Fail, training: boolean): void {
  activationOf(s.nonlinearity, s.layer);
  if (s.biasMode !== 'none' && !(Number.isInteger(s.bias) && s.bias >= 0)) fail(`has bias mode ${s.biasMode} but no bias ${training ? 'tensor' : 'parameter'}`);
  if (!(Number.isInteger(s.weight) && s.weight >= 0)) fail(`has no weight ${training ? 'tensor' : 'parameter'}`);
}

/** The parameters of a fused filter_acts or nin step, its weight kept in `form` by an inference plan. */
export function fusedParams(s: FilterActsStep | NinStep, form: SlotForm): StepParams {
  return { weight: s.weight, bias: s.biasMode === 'none' ? null : s.bias, elements: paramElements(s), form };
}

/** The operands of a fused filter_acts or nin step: its parameters are batch-free. */
export function fusedOperands(s: FilterActsStep | NinStep): Operands {
  const params = [s.weight, ...(s.biasMode === 'none' ? [] : [s.bias])];
  return operands([s.input, ...params], [s.output], [s.input, s.output], params);
}

/** weight_form and weight_grad_layout: a conv weight (or its gradient) moved between two layouts. */
export function checkRelayout(
  c: TrainingChecks, f: Pick<WeightFormStep, 'channels' | 'filterSize' | 'filters' | 'weightLayout'>, from: unknown, fromWhat: string, to: unknown, toWhat: string,
): void {
  c.dims(f.channels, f.filterSize, f.filters);
  if (f.weightLayout !== 'fckk' && f.weightLayout !== 'ckkf') c.fail(`has weightLayout ${String(f.weightLayout)}`);
  c.tensor(from, filterWeightElements(f), fromWhat);
  c.tensor(to, filterWeightElements(f), toWhat);
}

/**
 * img_acts and weight_acts: the conv geometry's sizes, pad and output grid, and the pre-activation
 * gradient; returns the elements of the image (the input and its gradient).
 */
export function checkConvGeometry(c: TrainingChecks, s: ConvGeometry & { preActGrad: number }): number {
  c.dims(s.channels, s.rows, s.cols, s.batch, s.filters, s.filterSize, s.stride, s.outRows, s.outCols);
  if (!(Number.isInteger(s.pad) && s.pad >= 0)) c.fail(`has pad ${s.pad}`);
  if ((s.outRows - 1) * s.stride + s.filterSize > s.rows + 2 * s.pad || (s.outCols - 1) * s.stride + s.filterSize > s.cols + 2 * s.pad) {
    c.fail(`asks for a ${s.outRows}x${s.outCols} output, more than a ${s.rows}x${s.cols} input with pad ${s.pad} gives`);
  }
  c.tensor(s.preActGrad, s.filters * s.outRows * s.outCols * s.batch, 'pre-activation gradient');
  return s.channels * s.rows * s.cols * s.batch;
}
