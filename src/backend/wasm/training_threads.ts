/**
 * Training over worker threads on the WASM backend: the batch split into near-equal slices, each
 * worker running the forward and backward steps on its slice with its own kernels instance, the
 * calling thread holding the plan's arena with the parameters, their gradients and the update
 * state. Per run (training.ts WasmPreparedTraining):
 *
 *   1. the calling thread writes the inputs into its arena and runs the "pre" steps: steps that
 *      touch only batch-free tensors and whose outputs the batch steps read (weight_form, the
 *      dense weights' transposes);
 *   2. every worker gets its input slices and the batch-free tensors its steps read (the kernel
 *      forms, the biases) and runs the batch steps on its slice; dropout draws its mask at the
 *      FULL tensor's flat indices, and the loss weighs with the full batch, so the slices' losses
 *      and gradients add up to the whole batch's;
 *   3. the batch-free tensors the batch steps write (the loss, bias and weight gradients) come back
 *      as one partial per worker and are summed in float32 in worker order (0, 1, ...): the same
 *      result every run for a given thread count;
 *   4. the calling thread runs the remaining "post" steps in plan order (weight_grad_layout, the
 *      gradients' transposes, penalties, updates).
 *
 * splitTraining finds the batch-free ("global") and batch tensors and the three step groups from the
 * steps themselves (and the tensors' batchAxis where the plan records it); a plan it cannot split
 * (a step mixing the groups' order, a tensor that is both) runs on the calling thread, and the
 * description says why.
 */
import { RuntimeError } from '../../errors.js';
import { shapeSize } from '../../ndarray.js';
import type { BackwardStep } from '../../ops/backward.js';
import type { PlanTensor } from '../../ops/plan.js';
import type { KernelStep } from '../../ops/steps.js';
import type { TrainingHyper, TrainingPlan, TrainingStep } from '../../ops/training.js';
import type { KernelsExports } from './kernels_abi.js';
import { splitSizes } from './layout.js';
import { forwardOp, opOf, subBatchStep } from './ops/index.js';
import type { BatchAxis, DropoutPlacement, Operands, WasmStep } from './ops/op.js';

/** The operands of a training step by role (its op's descriptor, ops/). */
export function operands(s: TrainingStep): Operands {
  const d: { operands(s: WasmStep): Operands } | undefined = opOf(s.op);
  if (d === undefined) throw new RuntimeError(`wasm backend: no operands known for ${s.op} steps`);
  return d.operands(s);
}

/** How a training plan splits over threads (see the module comment). */
export interface TrainingSplit {
  batch: number;
  /** Per tensor: its batch axis, or null for a batch-free tensor (and for scratch). */
  axes: ('first' | 'last' | null)[];
  pre: number[];
  batchSteps: number[];
  post: number[];
  /** Batch-free tensors the batch steps read (sent each run) and write (summed each run). */
  globalsIn: number[];
  reduce: number[];
}

const elementwise = (s: TrainingStep) => forwardOp(s.op)?.keepsBatchAxis === true;
/** Transposes: steps that move the batch axis, whose tensors have a batch or none as those at their other end. */
const movesBatchAxis = (s: TrainingStep): s is Extract<TrainingStep, KernelStep> => forwardOp(s.op)?.batchAxes !== undefined;

/** The batch size of a plan's steps (the steps with a `batch` field), or a reason there is none. */
function planBatchSize(plan: TrainingPlan): number | string {
  let batch: number | null = null;
  for (const s of plan.steps) {
    const b = (s as { batch?: unknown }).batch;
    if (typeof b !== 'number') continue;
    if (batch !== null && b !== batch) return `its steps have batch sizes ${batch} and ${b}`;
    batch = b;
  }
  return batch ?? 'no step has a batch';
}

/** Splits a checked training plan for threads, or says why it cannot. */
export function splitTraining(plan: TrainingPlan): TrainingSplit | string {
  const batch = planBatchSize(plan);
  if (typeof batch === 'string') return batch;
  const n = plan.tensors.length;
  const kind: ('batch' | 'global' | undefined)[] = new Array(n).fill(undefined);
  let conflict: string | null = null;
  const mark = (id: number, k: 'batch' | 'global') => {
    if (kind[id] !== undefined && kind[id] !== k) conflict ??= `tensor ${id} is used both with and without a batch axis`;
    kind[id] = k;
  };
  const ops = plan.steps.map(operands);
  const scratch = new Set(plan.steps.flatMap((s) => (s.scratch === undefined ? [] : [s.scratch])));
  for (const id of [...plan.inputs, ...plan.outputs, ...(plan.inputGrad === undefined ? [] : [plan.inputGrad])]) mark(id, 'batch');
  for (const p of plan.params) for (const id of [p.value, p.grad, ...p.state]) mark(id, 'global');
  mark(plan.loss, 'global');
  ops.forEach((o) => {
    o.batch.forEach((id) => mark(id, 'batch'));
    o.global.forEach((id) => mark(id, 'global'));
  });
  // transposes carry the kind of the tensor at their other end
  for (let changed = true; changed; ) {
    changed = false;
    plan.steps.forEach((s) => {
      if (!movesBatchAxis(s)) return;
      const k = kind[s.input] ?? kind[s.output];
      if (k === undefined) return;
      if (kind[s.input] === undefined || kind[s.output] === undefined) changed = true;
      mark(s.input, k);
      mark(s.output, k);
    });
  }
  if (conflict !== null) return conflict;
  const unknown = plan.steps.find((s) => movesBatchAxis(s) && kind[s.input] === undefined);
  if (unknown) return `transpose step ${unknown.index} connects tensors no other step places`;
  // batch axes: as recorded, else from the transposes and the elementwise steps, else last
  const axes: ('first' | 'last' | null | undefined)[] = plan.tensors.map((t: PlanTensor, i) => {
    if (kind[i] !== 'batch') return null;
    if (t.batchAxis === undefined || t.batchAxis === -1) return undefined;
    if (t.batchAxis === 0) return 'first';
    return t.batchAxis === t.shape.length - 1 ? 'last' : undefined;
  });
  if (plan.tensors.some((t, i) => kind[i] === 'batch' && t.batchAxis !== undefined && t.batchAxis !== -1 && axes[i] === undefined)) {
    return 'a tensor has its batch on a middle axis';
  }
  const setAxis = (id: number, a: 'first' | 'last') => {
    if (axes[id] === undefined) axes[id] = a;
    else if (axes[id] !== a) conflict ??= `tensor ${id} has its batch both first and last`;
  };
  plan.steps.forEach((s) => {
    if (!movesBatchAxis(s)) return;
    const moved = forwardOp(s.op)?.batchAxes?.(s);
    if (moved !== undefined && kind[s.input] === 'batch') {
      setAxis(s.input, moved[0]);
      setAxis(s.output, moved[1]);
    }
  });
  for (let changed = true; changed; ) {
    changed = false;
    plan.steps.forEach((s) => {
      if (!elementwise(s)) return;
      const { input, output } = s as { input: number; output: number };
      const a = axes[input] ?? axes[output];
      if (a === undefined || a === null) return;
      if (axes[input] === undefined || axes[output] === undefined) changed = true;
      setAxis(input, a);
      setAxis(output, a);
    });
  }
  if (conflict !== null) return conflict;
  for (let i = 0; i < n; i++) {
    if (kind[i] === 'batch' && axes[i] === undefined) axes[i] = 'last';
    if (kind[i] === undefined) axes[i] = null;
    if (kind[i] === 'batch') {
      const shape = plan.tensors[i].shape;
      if (shape[axes[i] === 'first' ? 0 : shape.length - 1] !== batch) return `tensor ${i} of shape [${shape.join(', ')}] has no batch ${batch} on its ${axes[i]} axis`;
    }
  }
  // step groups
  const isBatchStep = (i: number) => [...ops[i].reads, ...ops[i].writes].some((id) => kind[id] === 'batch');
  const batchSteps: number[] = [];
  const globalSteps: number[] = [];
  plan.steps.forEach((_, i) => (isBatchStep(i) ? batchSteps : globalSteps).push(i));
  const batchReads = new Set(batchSteps.flatMap((i) => ops[i].reads));
  const batchWrites = new Set(batchSteps.flatMap((i) => ops[i].writes));
  const hits = (i: number, j: number) => ops[i].writes.some((id) => ops[j].reads.includes(id));
  // pre: batch-free steps whose outputs a LATER batch step reads (an update writing a parameter
  // that the next run reads is post)
  const pre = globalSteps.filter((i) => batchSteps.some((j) => j > i && hits(i, j)));
  const post = globalSteps.filter((i) => !pre.includes(i));
  for (const i of batchSteps) if (plan.steps[i].phase === 'update') return `batch step ${i} is in the update phase`;
  for (const i of pre) {
    for (const j of batchSteps) {
      if (j < i && hits(j, i)) return `step ${i} feeds the batch steps but reads what batch step ${j} writes`;
      if (j < i && hits(i, j)) return `step ${i} writes what the earlier batch step ${j} reads`;
    }
    for (const j of post) if (j < i && hits(j, i)) return `step ${i} reads what the earlier step ${j} writes after the batch steps`;
  }
  for (const i of post) for (const j of batchSteps) if (i < j && hits(i, j)) return `batch step ${j} reads what the earlier batch-free step ${i} writes`;
  const reduce = [...batchWrites].filter((id) => kind[id] === 'global').sort((a, b) => a - b);
  if (reduce.some((id) => batchReads.has(id))) return 'a batch step reads a batch-free tensor that batch steps write';
  if (reduce.some((id) => pre.some((i) => ops[i].reads.includes(id)))) return 'a step before the batch steps reads what they sum';
  const globalsIn = [...batchReads].filter((id) => kind[id] === 'global').sort((a, b) => a - b);
  if (scratch.size > 0 && [...scratch].some((id) => kind[id] === 'batch')) return 'a scratch tensor is also a batch tensor';
  return { batch, axes: axes as ('first' | 'last' | null)[], pre, batchSteps, post, globalsIn, reduce };
}

/** What a worker runs: its slice of the batch steps in its own arena. Plain data (structured-cloneable). */
export interface SubTrainingPlan {
  training: true;
  tensors: PlanTensor[];
  arenaBytes: number;
  /** The batch steps with the slice's sizes, in plan order. */
  steps: TrainingStep[];
  /** The full batch (the loss weighs with it) and the slice [b0, b0 + sub). */
  batch: number;
  b0: number;
  sub: number;
  /** Per step: the dropout placement in the full tensor (see engine.ts DropoutPlacement), else null. */
  dropout: ([number, number, number, number] | null)[];
  inputs: number[];
  globalsIn: number[];
  reduce: number[];
}

const align16 = (n: number) => Math.ceil(n / 16) * 16;

/**
 * The sub-plans of a split for slices of `sizes`: batch tensors at the planner's offsets scaled by
 * sub / batch (layout.ts subBatchPlan: pairs the planner kept apart stay apart), then the
 * batch-free tensors the batch steps use, then each step's scratch as the sliced step needs it.
 */
export function subTrainingPlans(plan: TrainingPlan, split: TrainingSplit, sizes: readonly number[], scratchOf: (s: TrainingStep) => number): SubTrainingPlan[] {
  const { batch, axes } = split;
  let b0 = 0;
  return sizes.map((sub) => {
    const scale = (o: number) => 4 * Math.floor((o * sub) / (4 * batch));
    let end = 0;
    const tensors: PlanTensor[] = plan.tensors.map((t, i) => {
      const a = axes[i];
      if (a === null || a === undefined) return { id: i, shape: [...t.shape], bytes: t.bytes, offset: 0 };
      const shape = [...t.shape];
      shape[a === 'first' ? 0 : shape.length - 1] = sub;
      const offset = scale(t.offset);
      end = Math.max(end, offset + 4 * shapeSize(shape));
      return { id: i, shape, bytes: 4 * shapeSize(shape), offset };
    });
    for (const id of [...split.globalsIn, ...split.reduce]) {
      const offset = align16(end);
      tensors[id] = { ...tensors[id], offset };
      end = offset + 4 * shapeSize(tensors[id].shape);
    }
    const steps = split.batchSteps.map((i) => {
      const s = subBatchStep(plan.steps[i], sub);
      const need = scratchOf(s);
      if (need > 0) {
        const offset = align16(end);
        const bytes = 4 * Math.ceil(need / 4);
        tensors.push({ id: tensors.length, shape: [bytes / 4], bytes, offset });
        end = offset + bytes;
        s.scratch = tensors.length - 1;
      } else delete s.scratch;
      return s;
    });
    const dropout = steps.map((s) => {
      const place = forwardOp(s.op)?.slicePlacement;
      return place === undefined ? null : place(s as KernelStep, axes[(s as KernelStep).input] as BatchAxis, batch, b0);
    });
    const p: SubTrainingPlan = {
      training: true, tensors, arenaBytes: align16(Math.max(end, 16)), steps, batch, b0, sub, dropout,
      inputs: [...plan.inputs], globalsIn: [...split.globalsIn], reduce: [...split.reduce],
    };
    b0 += sub;
    return p;
  });
}

/** The slices of a batch over `threads` workers. */
export function trainingSizes(batch: number, threads: number): number[] {
  return splitSizes(batch, Math.min(threads, batch));
}

/** The worker side: one kernels instance running a SubTrainingPlan (worker.ts owns one). */
export class SubTrainer {
  readonly plan: SubTrainingPlan;
  readonly #k: KernelsExports;
  readonly #addr: number[];
  readonly #calls: ((h: TrainingHyper) => number)[];
  readonly times: Float64Array;

  constructor(
    k: KernelsExports, plan: SubTrainingPlan,
    callOf: (k: KernelsExports, s: TrainingStep, addr: (id: number) => number, batch: number, placement?: DropoutPlacement) => (h: TrainingHyper) => number,
  ) {
    this.plan = plan;
    this.#k = k;
    const arena = k.kernels_reserve(Math.max(plan.arenaBytes, 16), 16) >>> 0;
    if (arena === 0) throw new RuntimeError(`wasm backend worker: cannot grow the module's memory for its training arena (${plan.arenaBytes} bytes)`);
    this.#addr = plan.tensors.map((t) => arena + t.offset);
    const addr = (id: number) => this.#addr[id];
    this.#calls = plan.steps.map((s, i) => {
      const d = plan.dropout[i];
      return callOf(k, s, addr, plan.batch, d === null ? undefined : () => d);
    });
    this.times = new Float64Array(plan.steps.length);
  }

  #view(id: number): Float32Array {
    return new Float32Array(this.#k.memory.buffer, this.#addr[id], shapeSize(this.plan.tensors[id].shape));
  }

  /** Runs the slice: returns the partials of `reduce`, then the tensors of `read`. */
  run(inputs: readonly Float32Array[], globals: readonly Float32Array[], counter: number, read: readonly number[]): Float32Array[] {
    const plan = this.plan;
    inputs.forEach((x, i) => this.#view(plan.inputs[i]).set(x));
    globals.forEach((x, i) => this.#view(plan.globalsIn[i]).set(x));
    const h = { learningRate: 0, t: 1, counter };
    for (let i = 0; i < this.#calls.length; i++) {
      const t0 = performance.now();
      const rc = this.#calls[i](h);
      this.times[i] = performance.now() - t0;
      if (rc !== 0) {
        const s = plan.steps[i];
        throw new RuntimeError(`the ${s.op} kernel rejected the sizes of training step ${s.index} (${s.layer}) on its batch slice, code ${rc}`);
      }
    }
    return [...plan.reduce, ...read].map((id) => this.#view(id).slice());
  }
}

export type { BackwardStep, KernelStep };
