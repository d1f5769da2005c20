/**
 * The WASM backend's op registry: every op's descriptor (ops/op.ts), one line each, typed so that
 * an op of src/ops without one is a type error. A new op is one file here (with its C kernel in
 * src/backend/wasm/c) and one line in WASM_OPS; the rest of the backend looks ops up here.
 */
import type { BackwardStep } from '../../../ops/backward.js';
import type { KernelStep } from '../../../ops/steps.js';
import { biasActGrad } from './act_grad.js';
import { activation, copy, dropout, globalPool, globalPoolGrad, softmax, softmaxGrad } from './elementwise.js';
import { filterActs } from './filter_acts.js';
import { imgActs } from './img_acts.js';
import { maxPool } from './max_pool.js';
import { maxPoolGrad } from './max_pool_grad.js';
import { nin } from './nin.js';
import { ninGradInput, ninGradWeight } from './nin_grad.js';
import type { BackwardOp, DescriptorOf, ForwardOp, Op, StepOf, TrainingOnlyStep, TrainingOp, WasmStep } from './op.js';
import { loss, penalty, update, weightForm } from './training.js';
import { transpose } from './transpose.js';
import { weightActs, weightGradLayout } from './weight_acts.js';

const WASM_OPS: { readonly [O in Op]: DescriptorOf<StepOf<O>> } = {
  transpose,
  filter_acts: filterActs,
  max_pool: maxPool,
  nin,
  copy,
  activation,
  softmax,
  dropout,
  global_pool: globalPool,
  weight_form: weightForm,
  loss,
  penalty,
  update,
  softmax_grad: softmaxGrad,
  global_pool_grad: globalPoolGrad,
  bias_act_grad: biasActGrad,
  img_acts: imgActs,
  weight_acts: weightActs,
  weight_grad_layout: weightGradLayout,
  max_pool_grad: maxPoolGrad,
  nin_grad_input: ninGradInput,
  nin_grad_weight: ninGradWeight,
};

/** A descriptor of any op, for steps whose op is known by its `kind` only. */
export type AnyOp = ForwardOp<KernelStep> | BackwardOp<BackwardStep> | TrainingOp<TrainingOnlyStep>;

const table: Readonly<Record<string, AnyOp>> = WASM_OPS;

/** The descriptor of an op, or undefined where the WASM backend has none (a plan's op is untrusted). */
export function opOf(op: string): AnyOp | undefined {
  return Object.prototype.hasOwnProperty.call(table, op) ? table[op] : undefined;
}

/** The descriptor of a forward op, or undefined where `op` is none. */
export function forwardOp(op: string): ForwardOp<KernelStep> | undefined {
  const d = opOf(op);
  return d?.kind === 'forward' ? d : undefined;
}

/** The step on `sub` examples of its batch (its op's withBatch, else its `batch` field replaced). */
export function subBatchStep<S extends WasmStep>(s: S, sub: number): S {
  const d = opOf(s.op) as { withBatch?(s: S, sub: number): S } | undefined;
  if (d?.withBatch) return d.withBatch(s, sub);
  return 'batch' in s ? { ...s, batch: sub } : { ...s };
}
