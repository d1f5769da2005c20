/**
 * Plain-data layout work of the WASM backend, shared by the calling thread and the workers: which
 * parameter storage ("slots") the kernels read and in what form, the packed filter layout of
 * src/backend/wasm/c/filter_acts.c, the checks that a plan's steps agree with its tensors, and the split of
 * a plan along the batch axis for worker threads. No WebAssembly here.
 */
import { RuntimeError } from '../../errors.js';
import { shapeSize } from '../../ndarray.js';
import { outputWindowProblem, type FilterActsStep, type KernelStep } from '../../ops/steps.js';
import type { KernelPlan, ParamSource, PlanTensor } from '../backend.js';
import { forwardOp, subBatchStep } from './ops/index.js';
export type { KernelPlan, ParamSource, PlanTensor };

type FilterGeometry = Pick<FilterActsStep, 'weightLayout' | 'flipFilters' | 'channels' | 'filterSize' | 'filters'>;

/**
 * Parameter storage in the module's memory, in the form a kernel reads: conv weights in kernel
 * layout (flipped as the layer asks), then packed by packFilters; a (C, U) dense weight (nin
 * weightLayout 'cu') transposed to (U, C) (src/ops/weights.ts ninWeights); everything else as stored.
 */
export type SlotForm = ({ kind: 'filters' } & FilterGeometry) | { kind: 'units'; units: number; channels: number } | { kind: 'raw' };

export interface Slot {
  /** Index into the plan's params (and prepare's params argument). */
  param: number;
  form: SlotForm;
  /** float32 elements of the slot (and of the parameter). */
  elements: number;
}

/** A plan ready to execute: the kernel plan plus parameter slots. Plain data (structured-cloneable). */
export interface ExecPlan {
  steps: KernelStep[];
  tensors: PlanTensor[];
  inputs: number[];
  outputs: number[];
  arenaBytes: number;
  alignment: number;
  slots: Slot[];
  /** Per step: slot indices of its weight and bias, -1 where it has none. */
  stepSlots: { weight: number; bias: number }[];
}


function stepName(s: KernelStep): string {
  return `step ${s.index} (${s.op} of ${s.layer})`;
}

function fail(s: KernelStep, what: string): never {
  throw new RuntimeError(`wasm backend: ${stepName(s)} ${what}; the plan does not match its tensors`);
}

function isPositiveInt(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= 1;
}

/** Elements a step reads and writes, from its own geometry. */
export function stepElements(s: KernelStep): { input: number; output: number } {
  const d = forwardOp(s.op);
  if (d === undefined) return fail(s, 'is not supported by the wasm backend');
  return d.elements(s);
}

/**
 * Checks one forward step against the plan's tensors (sizes, operands, fused nonlinearity), with
 * what its op's descriptor (ops/) checks of its own fields. With `training`, dropout is allowed (it
 * never appears in an inference plan) and the weight and bias fields are tensor ids, checked by the
 * caller (training.ts).
 */
export function checkStep(s: KernelStep, tensors: readonly PlanTensor[], training = false): void {
  const d = forwardOp(s.op);
  if (d === undefined) return fail(s, 'is not supported by the wasm backend');
  const failHere = (what: string): never => fail(s, what);
  if (d.trainingOnly && !training) fail(s, `is a ${s.op} step, which belongs to training plans only (a deterministic pass emits none)`);
  const tin = tensors[s.input];
  const tout = tensors[s.output];
  if (tin === undefined || tout === undefined) fail(s, `names tensors ${s.input} -> ${s.output}, which the plan lacks`);
  const dims = d.dims(s);
  if (!dims.every(isPositiveInt)) fail(s, `has sizes [${dims.join(', ')}] that are not all positive integers`);
  d.check?.(s, failHere);
  const window = outputWindowProblem(s);
  if (window !== null) fail(s, window);
  if (s.scratch !== undefined && tensors[s.scratch] === undefined) fail(s, `names scratch tensor ${s.scratch}, which the plan lacks`);
  const { input, output } = d.elements(s);
  if (shapeSize(tin.shape) !== input) fail(s, `reads ${input} elements but tensor ${s.input} has shape [${tin.shape.join(', ')}]`);
  if (shapeSize(tout.shape) !== output) fail(s, `writes ${output} elements but tensor ${s.output} has shape [${tout.shape.join(', ')}]`);
  d.checkFused?.(s, failHere, training);
}

/** Checks a plan's steps against its tensors and lays out the parameter slots. */
export function execPlan(plan: KernelPlan, paramCount: number): ExecPlan {
  if (!Array.isArray(plan.steps) || plan.steps.some((s) => forwardOp((s as KernelStep).op) === undefined)) {
    throw new RuntimeError('wasm backend: the plan has no kernel steps (src/ops/steps.ts KernelStep); plan() must emit them');
  }
  const slots: Slot[] = [];
  const slotIndex = new Map<string, number>();
  const slotFor = (param: number, form: SlotForm, elements: number, s: KernelStep): number => {
    if (param >= paramCount) fail(s, `uses parameter ${param} but only ${paramCount} were given`);
    const key =
      form.kind === 'raw' ? `raw:${param}`
      : form.kind === 'units' ? `units:${param}:${form.units}:${form.channels}`
      : `filters:${param}:${form.weightLayout}:${form.flipFilters}:${form.channels}:${form.filterSize}:${form.filters}`;
    const known = slotIndex.get(key);
    if (known !== undefined) {
      if (slots[known].elements !== elements) fail(s, `reads parameter ${param} as ${elements} values, another step as ${slots[known].elements}`);
      return known;
    }
    slots.push({ param, form, elements });
    slotIndex.set(key, slots.length - 1);
    return slots.length - 1;
  };
  const stepSlots = plan.steps.map((s) => {
    checkStep(s, plan.tensors);
    const p = forwardOp(s.op)?.params?.(s);
    if (p === undefined) return { weight: -1, bias: -1 };
    return {
      weight: slotFor(p.weight, p.form, p.elements.weight, s),
      bias: p.bias === null ? -1 : slotFor(p.bias, { kind: 'raw' }, p.elements.bias, s),
    };
  });
  for (const id of [...plan.inputs, ...plan.outputs]) {
    if (plan.tensors[id] === undefined) throw new RuntimeError(`wasm backend: the plan names tensor ${id} as an input or output but has no such tensor`);
  }
  const alignment = Math.max(16, plan.alignment ?? 16);
  let arenaBytes = plan.arenaBytes;
  for (const t of plan.tensors) {
    if (!(Number.isInteger(t.offset) && t.offset >= 0 && t.offset % 4 === 0)) {
      throw new RuntimeError(`wasm backend: tensor ${t.id} has offset ${t.offset}, not a multiple of 4 bytes`);
    }
    arenaBytes = Math.max(arenaBytes, t.offset + 4 * shapeSize(t.shape));
  }
  return {
    steps: plan.steps.map((s) => structuredCloneStep(s)),
    tensors: plan.tensors.map((t) => ({ id: t.id, shape: [...t.shape], bytes: t.bytes, offset: t.offset, ...(t.batchAxis === undefined ? {} : { batchAxis: t.batchAxis }) })),
    inputs: [...plan.inputs],
    outputs: [...plan.outputs],
    arenaBytes,
    alignment,
    slots,
    stepSlots,
  };
}

function structuredCloneStep(s: KernelStep): KernelStep {
  // steps are plain JSON data
  return JSON.parse(JSON.stringify(s)) as KernelStep;
}

/**
 * The packed filter layout of src/backend/wasm/c/filter_acts.c: from the kernel-layout (C, k, k, F) weight
 * (K = C*k*k taps q, F filters), blocks of 4 filters from filter 0 and a last F % 4 blocks of one;
 * the block at filter f0 of width nb holds w[q, f0 + t] at packed[K*f0 + q*nb + t].
 */
export function packFilters(ckkf: Float32Array, K: number, F: number): Float32Array {
  const out = new Float32Array(K * F);
  for (let f0 = 0; f0 < F; ) {
    const nb = F - f0 >= 4 ? 4 : 1;
    const base = K * f0;
    for (let q = 0; q < K; q++) for (let t = 0; t < nb; t++) out[base + q * nb + t] = ckkf[q * F + f0 + t];
    f0 += nb;
  }
  return out;
}

/** The batch size of a plan's steps, or null when they do not all agree (or there are none). */
export function planBatch(steps: readonly KernelStep[]): number | null {
  let batch: number | null = null;
  for (const s of steps) {
    const d = forwardOp(s.op);
    const b = d?.batchOf ? d.batchOf(s) : (s as { batch: number }).batch;
    if (batch !== null && b !== batch) return null;
    batch = b;
  }
  return batch;
}

/**
 * Which axis of each tensor is the batch, 'first' or 'last': as the plan records it (compile() keeps
 * each tensor's batchAxis); null when a tensor's batch is on a middle axis. A hand-written step plan
 * without batchAxis (kernel tests) is read from its steps instead: 'first' for bc01 tensors (the
 * input of a [1,2,3,0] transpose, the output of a [3,0,1,2] one), 'last' for what the kernels read
 * and write; null when a tensor is touched by no step or gets two answers.
 */
export function batchAxes(plan: Pick<ExecPlan, 'steps' | 'tensors'>): ('first' | 'last')[] | null {
  if (plan.tensors.every((t) => t.batchAxis !== undefined)) {
    const recorded = plan.tensors.map((t) => (t.batchAxis === -1 || t.batchAxis === 0 ? 'first' : t.batchAxis === t.shape.length - 1 ? 'last' : null));
    return recorded.some((a) => a === null) ? null : (recorded as ('first' | 'last')[]);
  }
  const axes: ('first' | 'last' | undefined)[] = plan.tensors.map(() => undefined);
  // scratch has no batch axis: subBatchPlan sizes it for each sub-batch (its entry here is a placeholder)
  for (const s of plan.steps) if (s.scratch !== undefined) axes[s.scratch] = 'first';
  let ok = true;
  const set = (id: number, axis: 'first' | 'last') => {
    if (axes[id] !== undefined && axes[id] !== axis) ok = false;
    axes[id] = axis;
  };
  // elementwise steps (copy, activation, dropout) keep the batch where it is: their tensors take
  // the axis of the tensor at their other end, and 'last' (the kernels' layout) where no other
  // step says (a hand-written plan of elementwise steps only); a transpose moves it
  const elementwise = (s: KernelStep) => forwardOp(s.op)?.keepsBatchAxis === true;
  for (const s of plan.steps) {
    if (elementwise(s)) continue;
    const [a, b] = forwardOp(s.op)?.batchAxes?.(s) ?? ['last', 'last'];
    set(s.input, a);
    set(s.output, b);
  }
  for (let changed = true; changed; ) {
    changed = false;
    for (const s of plan.steps) {
      if (!elementwise(s)) continue;
      const a = axes[s.input] ?? axes[s.output];
      if (a === undefined) continue;
      if (axes[s.input] === undefined || axes[s.output] === undefined) changed = true;
      set(s.input, a);
      set(s.output, a);
    }
  }
  for (const s of plan.steps) {
    if (!elementwise(s)) continue;
    if (axes[s.input] === undefined) set(s.input, 'last');
    if (axes[s.output] === undefined) set(s.output, 'last');
  }
  if (!ok || axes.some((a) => a === undefined)) return null;
  return axes as ('first' | 'last')[];
}

/**
 * The plan for a sub-batch of `sub` of the plan's `batch` entries: the same steps with the batch
 * replaced, tensors with the batch axis shortened, and the planner's offsets scaled: every tensor
 * has exactly one batch axis, so all sizes scale by sub/batch, and o' = 4*floor(o*sub/(4*batch))
 * keeps every pair of tensors the planner kept apart apart (o_i + bytes_i <= o_j implies
 * o_i' + bytes_i' <= o_j', since bytes_i' = bytes_i*sub/batch is a multiple of 4). So the workers
 * share the planner's arena assignment, at 4-byte alignment.
 */
export function subBatchPlan(
  plan: ExecPlan, axes: readonly ('first' | 'last')[], batch: number, sub: number, scratchOf?: (step: KernelStep) => number,
): ExecPlan {
  const scale = (o: number) => 4 * Math.floor((o * sub) / (4 * batch));
  const scratchIds = new Set(plan.steps.flatMap((s) => (s.scratch === undefined ? [] : [s.scratch])));
  const tensors = plan.tensors.map((t, i) => {
    if (scratchIds.has(i)) return { id: t.id, shape: [...t.shape], bytes: t.bytes, offset: t.offset };
    const shape = [...t.shape];
    const axis = axes[i] === 'first' ? 0 : shape.length - 1;
    if (shape[axis] !== batch) throw new RuntimeError(`wasm backend: tensor ${t.id} has shape [${t.shape.join(', ')}], not batch ${batch} on its ${axes[i]} axis`);
    shape[axis] = sub;
    return { id: t.id, shape, bytes: 4 * shapeSize(shape), offset: scale(t.offset) };
  });
  const steps = plan.steps.map((s) => subBatchStep(s, sub));
  let arenaBytes = Math.ceil((plan.arenaBytes * sub) / batch / 4) * 4;
  for (const t of tensors) if (!scratchIds.has(t.id)) arenaBytes = Math.max(arenaBytes, t.offset + t.bytes);
  // Scratch: what the sub-step needs, at the scaled offset where it fits in the scaled slot (which
  // keeps it apart from every tensor the planner kept it apart from), else past the end.
  steps.forEach((s) => {
    if (s.scratch === undefined) return;
    const full = plan.tensors[s.scratch];
    const need = 4 * Math.ceil((scratchOf ? scratchOf(s) : (full.bytes * sub) / batch) / 4);
    const slot = 4 * Math.floor((full.bytes * sub) / (4 * batch));
    let offset = scale(full.offset);
    if (need > slot) {
      offset = Math.ceil(arenaBytes / 16) * 16;
      arenaBytes = offset + need;
    }
    tensors[s.scratch] = { id: full.id, shape: [need / 4], bytes: need, offset };
  });
  return { ...plan, steps, tensors, arenaBytes, alignment: 16 };
}

/** Splits `batch` into `parts` near-equal positive sizes (larger ones first). */
export function splitSizes(batch: number, parts: number): number[] {
  const base = Math.floor(batch / parts);
  const extra = batch % parts;
  return Array.from({ length: parts }, (_, i) => base + (i < extra ? 1 : 0));
}

/**
 * Copies batch entries [b0, b0 + w) between a full C-order tensor (batch `n` on its first or last
 * axis) and a sub-batch tensor of batch `w` with the same other axes: into `part` when `toPart`,
 * else from it. Batch first: one block. Batch last: one run of w values per row.
 */
export function copyBatch(full: Float32Array, n: number, axis: 'first' | 'last', b0: number, part: Float32Array, w: number, toPart: boolean): void {
  const rest = part.length / w;
  if (axis === 'first') {
    if (toPart) part.set(full.subarray(b0 * rest, (b0 + w) * rest));
    else full.set(part, b0 * rest);
    return;
  }
  if (w >= 32) {
    for (let r = 0; r < rest; r++) {
      if (toPart) part.set(full.subarray(r * n + b0, r * n + b0 + w), r * w);
      else full.set(part.subarray(r * w, (r + 1) * w), r * n + b0);
    }
    return;
  }
  // short runs: a plain loop beats a subarray() per row
  for (let r = 0, f = b0, p = 0; r < rest; r++, f += n) {
    if (toPart) for (let i = 0; i < w; i++) part[p++] = full[f + i];
    else for (let i = 0; i < w; i++) full[f + i] = part[p++];
  }
}

/** Entries [b0, b1) of the batch of a C-order tensor whose batch axis is first or last. */
export function sliceBatch(data: Float32Array, shape: readonly number[], axis: 'first' | 'last', b0: number, b1: number): Float32Array {
  const n = axis === 'first' ? shape[0] : shape[shape.length - 1];
  const part = new Float32Array((data.length / n) * (b1 - b0));
  copyBatch(data, n, axis, b0, part, b1 - b0, true);
  return part;
}

/** Writes `part` (entries [b0, b1) of the batch) into the full tensor `dst`. */
export function placeBatch(dst: Float32Array, shape: readonly number[], axis: 'first' | 'last', b0: number, b1: number, part: Float32Array): void {
  const n = axis === 'first' ? shape[0] : shape[shape.length - 1];
  copyBatch(dst, n, axis, b0, part, b1 - b0, false);
}

/** Floating-point operations of one run (multiply-adds count 2), to judge whether threads pay. */
export function planFlops(steps: readonly KernelStep[]): number {
  let flops = 0;
  for (const s of steps) {
    const d = forwardOp(s.op);
    flops += d?.flops ? d.flops(s) : stepElements(s).output;
  }
  return flops;
}

/** A full-batch input or output tensor in a SharedArrayBuffer that every worker reads or writes its slice of. */
export interface SharedTensor {
  buffer: SharedArrayBuffer;
  batch: number;
  axis: 'first' | 'last';
}

/** What a worker needs to move its sub-batch [b0, b0 + its batch) through shared memory. */
export interface SharedIO {
  inputs: SharedTensor[];
  outputs: SharedTensor[];
  b0: number;
}
