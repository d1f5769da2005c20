/// <reference types="@webgpu/types" />
/**
 * A training plan (src/ops/training.ts) prepared on one device: ONE arena buffer of plan.arenaBytes
 * (rounded up to 16), zero at the start, holding every tensor: activations, parameters, their
 * gradients, the update state and every step's scratch. Every pass binds the whole arena and takes
 * absolute element offsets, so a step's operands (a conv's kernel-form weight, a bias, a state
 * tensor) can lie anywhere in it; filter_acts and nin read their weight and bias from the arena
 * (override W_ARENA), img_acts and nin_grad_input their weight too. Outside the plan there are only
 * the uniform buffer (one 256-byte slot per pass), a 16-byte stand-in for the unused weight bindings,
 * and the readback buffer.
 *
 * A run writes the inputs, the per-run uniforms (each update step's learning rate, each dropout
 * step's counter), encodes every pass (without phase 'update' when asked) into one compute pass of
 * one command buffer, copies the `read` tensors out and maps them. run, write and read are queued:
 * each starts after the previous one settled.
 */
import { RuntimeError, ValueError } from '../../errors.js';
import type { BackwardStep } from '../../ops/backward.js';
import type { KernelStep } from '../../ops/steps.js';
import {
  UPDATE_STATE, updateScalar,
  type LossKind, type PreparedTraining, type TrainingHyper, type TrainingPlan, type TrainingRunOptions, type TrainingStep, type UpdateRule,
} from '../../ops/training.js';
import { deviceLostError, isPlainData } from '../backend.js';
import { backwardLaunches, backwardScratchBytes } from './backward.js';
import { BufferUsage, MAP_MODE_READ, watchDevice, type DeviceHandle, type DeviceWatch } from './device.js';
import {
  COLUMN_GROUP, DEFAULT_GPU_LIMITS, DROPOUT_COUNTER_BYTE, FLAT_WORKGROUP, elementwiseUniform, filterActsScratchBytes, launchOf,
  softmaxUniform, workgroupGrid, type KernelFamily, type KernelLimits, type KernelPlan,
} from './geometry.js';
import { LAYOUT_OF, backwardPipelineOf, layoutOf, pipelineOf, type LayoutKind } from './pipelines.js';
import { UNIFORM_STRIDE, awaitBuild, limitsOf, popScopes, settleSubmission } from './submit.js';

/** Byte offset of `lr` in update.wgsl's Params (written before each run). */
const UPDATE_LR_BYTE = 32;

const BACKWARD_OPS = new Set(['bias_act_grad', 'img_acts', 'weight_acts', 'weight_grad_layout', 'max_pool_grad', 'nin_grad_input', 'nin_grad_weight']);
const FORWARD_OPS = new Set(['transpose', 'filter_acts', 'max_pool', 'nin', 'copy', 'activation', 'softmax', 'dropout', 'global_pool']);

/** update.wgsl's RULE codes. */
export const UPDATE_RULE_CODES: Readonly<Record<UpdateRule, number>> = Object.freeze({
  sgd: 0, momentum: 1, nesterov_momentum: 2, adagrad: 3, rmsprop: 4, adadelta: 5, adam: 6, adamax: 7,
});

/** softmax.wgsl's loss kind codes. */
export const LOSS_KIND_CODES: Readonly<Record<LossKind, number>> = Object.freeze({
  categorical_crossentropy: 0, binary_crossentropy: 1, squared_error: 2, binary_hinge: 3, multiclass_hinge: 4,
});

const product = (shape: readonly number[]): number => shape.reduce((n, d) => n * d, 1);
const ceilDiv = (a: number, b: number): number => Math.floor((a + b - 1) / b);

/**
 * Scratch bytes of each step of a training plan on WebGPU (0: none), as Backend.trainingScratchBytes
 * reports them: filter_acts' split-K partial sums (as a GPU with WebGPU's guaranteed limits takes
 * them), and the backward kernels' partial sums (weight_acts' groups and slices, nin_grad_weight's K
 * slices, bias_act_grad's segment sums). The loss's and the penalties' sums need none (one
 * workgroup each).
 */
export function trainingScratchNeeds(steps: readonly TrainingStep[]): number[] {
  return steps.map((s) => {
    if (s.op === 'filter_acts') return filterActsScratchBytes(s, DEFAULT_GPU_LIMITS);
    if (BACKWARD_OPS.has(s.op)) return backwardScratchBytes(s as BackwardStep);
    return 0;
  });
}

/** update.wgsl's uniform: 8 u32 words, then lr, momentum, rho, beta1, beta2, eps, l1, l2, 1 - rho, 1 - beta1, 1 - beta2 (f32; the differences in float64). */
function updateUniform(f: { p: number; g: number; s0?: number; s1?: number; count: number; loss?: number; momentum?: number; rho?: number; beta1?: number; beta2?: number; eps?: number; l1?: number; l2?: number }): ArrayBuffer {
  const buf = new ArrayBuffer(80);
  new Uint32Array(buf).set([f.p, f.g, f.s0 ?? 0, f.s1 ?? 0, f.count, f.loss ?? 0, 0, 0]);
  new Float32Array(buf).set([0, f.momentum ?? 0, f.rho ?? 0, f.beta1 ?? 0, f.beta2 ?? 0, f.eps ?? 0, f.l1 ?? 0, f.l2 ?? 0,
    1 - (f.rho ?? 0), 1 - (f.beta1 ?? 0), 1 - (f.beta2 ?? 0), 0], 8);
  return buf;
}

/** One dispatch: its pipeline, binding shape, uniform, grid, and what the host rewrites each run. */
interface PassSpec {
  step: TrainingStep;
  pipeline: Promise<GPUComputePipeline>;
  layout: LayoutKind;
  uniform: ArrayBuffer;
  workgroups: [number, number];
  perRun?: { kind: 'lr'; rule: UpdateRule; beta1: number; beta2: number } | { kind: 'counter' };
}

interface Pass {
  update: boolean;
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  workgroups: [number, number];
}

/** Why a training plan cannot run here, checked before anything is created. */
function checkPlan(plan: TrainingPlan, limits: KernelLimits): void {
  if (!Number.isInteger(plan.arenaBytes) || plan.arenaBytes < 0) throw new ValueError(`a training plan needs a non-negative integer arenaBytes, but arenaBytes=${plan.arenaBytes}`);
  plan.tensors.forEach((t, i) => {
    const end = t.offset + 4 * product(t.shape);
    if (t.id !== i) throw new ValueError(`training plan tensor ${i} has id ${t.id}; tensors must be listed in id order`);
    if (!Number.isInteger(t.offset) || t.offset < 0 || t.offset % 4 !== 0 || end > plan.arenaBytes) {
      throw new ValueError(`training plan tensor ${t.id} (offset ${t.offset}, ${4 * product(t.shape)} bytes) does not lie inside the ${plan.arenaBytes}-byte arena`);
    }
  });
  const whole = limits.wholeArena ?? 0;
  if (whole > limits.maxStorageBufferBindingSize) {
    throw new ValueError(
      `the WebGPU training executor binds the whole ${whole}-byte arena in every step, more than this device's maxStorageBufferBindingSize ` +
        `(${limits.maxStorageBufferBindingSize}); use a smaller batch`,
    );
  }
  for (const id of [...plan.inputs, plan.loss]) {
    if (plan.tensors[id] === undefined) throw new ValueError(`the training plan names tensor ${id}, but it has only ${plan.tensors.length}`);
  }
}

export class WebGpuPreparedTraining implements PreparedTraining {
  readonly description: string;
  readonly #device: GPUDevice;
  readonly #plan: TrainingPlan;
  readonly #watch: DeviceWatch;
  readonly #buffers: GPUBuffer[] = [];
  #arena!: GPUBuffer;
  #uniforms!: GPUBuffer;
  #readback: GPUBuffer | null = null;
  #passes: Pass[] = [];
  /** Per-run uniform writes: the slot's byte offset and what to write there. */
  #perRun: { byte: number; kind: 'lr' | 'counter'; rule?: UpdateRule; beta1?: number; beta2?: number }[] = [];
  #hasUpdate = false;
  #queue: Promise<unknown> = Promise.resolve();
  #disposed = false;

  private constructor(handle: DeviceHandle, plan: TrainingPlan) {
    this.#device = handle.device;
    this.#plan = plan;
    this.#watch = watchDevice(handle.device);
    this.description = handle.description;
  }

  /** Bytes held on the device for this plan: the arena buffer (the plan's arenaBytes rounded up to 16). */
  get bytes(): number {
    return this.#arena.size;
  }

  /** Creates the arena, the uniforms, every pipeline and bind group; rejects on a validation, allocation or device-loss error. */
  static async create(handle: DeviceHandle, plan: TrainingPlan): Promise<WebGpuPreparedTraining> {
    const t = new WebGpuPreparedTraining(handle, plan);
    try {
      await t.#build(handle);
      await awaitBuild(handle, t.#watch, 'while the training plan was prepared');
    } catch (err) {
      t.dispose();
      throw err;
    }
    return t;
  }

  #buffer(label: string, size: number, usage: number): GPUBuffer {
    const b = this.#device.createBuffer({ label, size, usage });
    this.#buffers.push(b);
    return b;
  }

  /** Element offset of tensor `id`, checking that it holds `count` floats (when given). */
  #off(step: TrainingStep, field: string, id: number, count?: number): number {
    const t = this.#plan.tensors[id];
    if (t === undefined || !Number.isInteger(id)) throw new ValueError(`step ${step.index} (${step.op}, ${step.layer}): ${field} names tensor ${id}, but the plan has ${this.#plan.tensors.length}`);
    if (count !== undefined && product(t.shape) !== count) {
      throw new ValueError(`step ${step.index} (${step.op}, ${step.layer}): ${field} (tensor ${id}) must hold ${count} values, but holds ${product(t.shape)}`);
    }
    return t.offset / 4;
  }

  /** The passes of one step, in order. */
  #specsOf(step: TrainingStep, limits: KernelLimits): PassSpec[] {
    const device = this.#device;
    const grid = (n: number): [number, number] => workgroupGrid(Math.max(1, n), limits.maxComputeWorkgroupsPerDimension);
    const copyPass = (family: KernelFamily, entry: string, constants: Record<string, number>, uniform: ArrayBuffer, workgroups: [number, number]): PassSpec => ({
      step, pipeline: pipelineOf(device, family, entry, constants), layout: LAYOUT_OF[family], uniform, workgroups,
    });
    if (FORWARD_OPS.has(step.op)) {
      const l = launchOf(this.#plan as unknown as KernelPlan, step as KernelStep, limits);
      const first: PassSpec = {
        step, pipeline: pipelineOf(device, l.family, l.entryPoint, l.constants, l.defines, l.arena), layout: LAYOUT_OF[l.family], uniform: l.uniform, workgroups: l.workgroups,
        perRun: step.op === 'dropout' ? { kind: 'counter' } : undefined,
      };
      if (l.second === undefined) return [first];
      return [first, { step, pipeline: pipelineOf(device, l.family, l.second.entryPoint, l.second.constants, l.defines, l.arena), layout: LAYOUT_OF[l.family], uniform: l.uniform, workgroups: l.second.workgroups }];
    }
    if (BACKWARD_OPS.has(step.op)) {
      const s = step as BackwardStep;
      const at = { tensor: (id: number) => this.#off(step, 'a tensor', id), weight: (id: number) => this.#off(step, 'the weight', id) };
      return backwardLaunches(s, at, limits.maxComputeWorkgroupsPerDimension).map((l) => {
        // the weight is an arena tensor in a training plan
        const constants = l.file === 'img_acts' || (l.file === 'nin_grad' && l.constants.A_WEIGHTS === 1) ? { ...l.constants, W_ARENA: 1 } : l.constants;
        return { step, pipeline: backwardPipelineOf(device, l.file, l.entry, constants), layout: 'backward' as const, uniform: l.params, workgroups: l.workgroups };
      });
    }
    switch (step.op) {
      case 'weight_form': {
        const n = step.channels * step.filterSize * step.filterSize * step.filters;
        const u = elementwiseUniform({
          inOff: this.#off(step, 'input', step.input, n), outOff: this.#off(step, 'output', step.output, n), count: n,
          channels: step.channels, filterSize: step.filterSize, filters: step.filters, layout: step.weightLayout === 'fckk' ? 0 : 1, flip: step.flipFilters ? 1 : 0,
        });
        return [copyPass('elementwise', 'weight_form', {}, u, grid(ceilDiv(n, FLAT_WORKGROUP)))];
      }
      case 'global_pool_grad': {
        const { channels: C, positions: P, batch: B } = step;
        if (P < 1) throw new ValueError(`step ${step.index} (${step.layer}): global_pool_grad needs at least one position, but positions=${P}`);
        const u = elementwiseUniform({
          inOff: this.#off(step, 'outputGrad', step.outputGrad, C * B), outOff: this.#off(step, 'inputGrad', step.inputGrad, C * P * B), count: C * P * B,
          channels: C, positions: P, batch: B,
        });
        return [copyPass('elementwise', 'global_pool_grad', {}, u, grid(ceilDiv(C * P * B, FLAT_WORKGROUP)))];
      }
      case 'softmax_grad': {
        const n = step.units * step.batch;
        const u = softmaxUniform({
          inOff: this.#off(step, 'output', step.output, n), outOff: this.#off(step, 'inputGrad', step.inputGrad, n), auxOff: this.#off(step, 'outputGrad', step.outputGrad, n),
          units: step.units, batch: step.batch,
        });
        return [copyPass('softmax', 'softmax_grad', {}, u, grid(ceilDiv(step.batch, COLUMN_GROUP)))];
      }
      case 'loss': {
        const { units: U, batch: B } = step;
        if (!Object.prototype.hasOwnProperty.call(LOSS_KIND_CODES, step.kind)) throw new ValueError(`step ${step.index} (${step.layer}): unknown loss kind=${String(step.kind)}`);
        if (step.fusedSoftmax && step.kind !== 'categorical_crossentropy') {
          throw new ValueError(`step ${step.index} (${step.layer}): fusedSoftmax fuses a softmax with categorical_crossentropy only, but kind=${step.kind}`);
        }
        if (U < 1 || B < 1) throw new ValueError(`step ${step.index} (${step.layer}): the loss needs units >= 1 and batch >= 1, but units=${U}, batch=${B}`);
        const perExample = step.kind === 'categorical_crossentropy' || step.kind === 'multiclass_hinge';
        const u = softmaxUniform({
          inOff: this.#off(step, 'prediction', step.prediction, U * B), outOff: this.#off(step, 'outputGrad', step.outputGrad, U * B),
          auxOff: this.#off(step, 'targets', step.targets, step.targetForm === 'index' ? B : U * B), lossOff: this.#off(step, 'loss', step.loss, 1),
          units: U, batch: B, kind: LOSS_KIND_CODES[step.kind], fused: step.fusedSoftmax, indexTargets: step.targetForm === 'index',
          weight: step.aggregate === 'sum' ? 1 : 1 / (perExample ? B : U * B),
        });
        return [copyPass('softmax', 'loss', {}, u, [1, 1])];
      }
      case 'penalty': {
        const u = updateUniform({
          p: this.#off(step, 'param', step.param, step.count), g: this.#off(step, 'grad', step.grad, step.count), count: step.count,
          loss: this.#off(step, 'loss', step.loss, 1), l1: step.l1, l2: step.l2,
        });
        return [copyPass('update', 'penalty', {}, u, [1, 1])];
      }
      case 'update': {
        if (!Object.prototype.hasOwnProperty.call(UPDATE_RULE_CODES, step.rule)) throw new ValueError(`step ${step.index} (${step.layer}): unknown update rule=${String(step.rule)}`);
        const states = UPDATE_STATE[step.rule];
        if (!Array.isArray(step.state) || step.state.length !== states) {
          throw new ValueError(`step ${step.index} (${step.layer}): the ${step.rule} update keeps ${states} state tensors, but state=${JSON.stringify(step.state)}`);
        }
        const n = step.count;
        const u = updateUniform({
          p: this.#off(step, 'param', step.param, n), g: this.#off(step, 'grad', step.grad, n),
          s0: states > 0 ? this.#off(step, 'state[0]', step.state[0], n) : 0, s1: states > 1 ? this.#off(step, 'state[1]', step.state[1], n) : 0,
          count: n, momentum: step.momentum, rho: step.rho, beta1: step.beta1, beta2: step.beta2, eps: step.epsilon,
        });
        const spec = copyPass('update', 'update', { RULE: UPDATE_RULE_CODES[step.rule] }, u, grid(ceilDiv(n, FLAT_WORKGROUP)));
        spec.perRun = { kind: 'lr', rule: step.rule, beta1: step.beta1, beta2: step.beta2 };
        return [spec];
      }
      default:
        throw new ValueError(`the WebGPU training executor has no kernel for op ${(step as { op: string }).op}`);
    }
  }

  async #build(handle: DeviceHandle): Promise<void> {
    const device = this.#device;
    const plan = this.#plan;
    const limits = limitsOf(handle, plan.arenaBytes);
    checkPlan(plan, limits);
    const specs = plan.steps.flatMap((s) => this.#specsOf(s, limits));
    const pipelines = Promise.all(specs.map((s) => s.pipeline));
    pipelines.catch(() => undefined);
    device.pushErrorScope('out-of-memory');
    device.pushErrorScope('validation');
    try {
      this.#arena = this.#buffer(`lasagne training arena (${plan.arenaBytes} bytes)`, limits.wholeArena ?? 16, BufferUsage.STORAGE | BufferUsage.COPY_DST | BufferUsage.COPY_SRC);
      // the weight bindings of the kernels that read their weights from the arena (never read)
      const standIn = this.#buffer('lasagne unused weight binding', 16, BufferUsage.STORAGE);
      const slots = Math.max(1, specs.length);
      this.#uniforms = this.#buffer('lasagne training step params', slots * UNIFORM_STRIDE, BufferUsage.UNIFORM | BufferUsage.COPY_DST);
      const data = new Uint8Array(slots * UNIFORM_STRIDE);
      specs.forEach((s, i) => {
        if (s.uniform.byteLength > UNIFORM_STRIDE) throw new ValueError(`step ${s.step.index}: its uniform (${s.uniform.byteLength} bytes) exceeds ${UNIFORM_STRIDE}`);
        data.set(new Uint8Array(s.uniform), i * UNIFORM_STRIDE);
        if (s.perRun?.kind === 'lr') this.#perRun.push({ byte: i * UNIFORM_STRIDE + UPDATE_LR_BYTE, kind: 'lr', rule: s.perRun.rule, beta1: s.perRun.beta1, beta2: s.perRun.beta2 });
        if (s.perRun?.kind === 'counter') this.#perRun.push({ byte: i * UNIFORM_STRIDE + DROPOUT_COUNTER_BYTE, kind: 'counter' });
      });
      device.queue.writeBuffer(this.#uniforms, 0, data);
      const arena = { binding: 0, resource: { buffer: this.#arena } };
      const groups = specs.map((s, i) => {
        const params = { buffer: this.#uniforms, offset: i * UNIFORM_STRIDE, size: UNIFORM_STRIDE };
        const entries: GPUBindGroupEntry[] =
          s.layout === 'gemm'
            ? [arena, { binding: 1, resource: { buffer: standIn } }, { binding: 2, resource: { buffer: standIn } }, { binding: 3, resource: params }]
            : s.layout === 'backward'
              ? [arena, { binding: 1, resource: { buffer: standIn } }, { binding: 2, resource: params }]
              : [arena, { binding: 1, resource: params }];
        return device.createBindGroup({ label: `lasagne training step ${s.step.index} ${s.step.op} (${s.step.layer})`, layout: layoutOf(device, s.layout).group, entries });
      });
      const ready = await pipelines;
      this.#passes = specs.map((s, i) => ({ update: s.step.phase === 'update', pipeline: ready[i], bindGroup: groups[i], workgroups: s.workgroups }));
      this.#hasUpdate = this.#passes.some((p) => p.update);
    } finally {
      await popScopes(device, 'prepareTraining', 2);
    }
  }

  /** Runs `job` after every call queued before it settled. */
  #enqueue<T>(job: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(() => {
      if (this.#disposed) throw new RuntimeError('this training plan was disposed; compile it again to use it');
      if (this.#watch.loss !== null) throw deviceLostError(this.#watch.loss, 'before this call');
      return job();
    });
    this.#queue = next.catch(() => undefined);
    return next;
  }

  #checkTensors(what: string, tensors: unknown): readonly number[] {
    if (!Array.isArray(tensors)) throw new ValueError(`${what} must be an array of tensor ids, but got ${typeof tensors}`);
    for (const id of tensors) {
      if (!Number.isInteger(id) || this.#plan.tensors[id as number] === undefined) {
        throw new ValueError(`${what} must name tensors of the plan (0 .. ${this.#plan.tensors.length - 1}), but got ${String(id)}`);
      }
    }
    return tensors as number[];
  }

  run(inputs: readonly Float32Array[], hyper: TrainingHyper, options: TrainingRunOptions): Promise<Float32Array[]> {
    try {
      const plan = this.#plan;
      if (!Array.isArray(inputs) || inputs.length !== plan.inputs.length) {
        throw new ValueError(`run needs ${plan.inputs.length} input arrays (inputs, then targets), but got ${Array.isArray(inputs) ? inputs.length : typeof inputs}`);
      }
      inputs.forEach((x, i) => {
        const want = product(plan.tensors[plan.inputs[i]].shape);
        if (!(x instanceof Float32Array) || x.length !== want) throw new ValueError(`run input ${i} must be a Float32Array of ${want} values, but got ${x instanceof Float32Array ? `${x.length} values` : typeof x}`);
      });
      if (typeof options !== 'object' || options === null || typeof options.update !== 'boolean') throw new ValueError('run options.update must be a boolean');
      const read = this.#checkTensors('run options.read', options.read);
      const update = options.update && this.#hasUpdate;
      if (typeof hyper !== 'object' || hyper === null) throw new ValueError('run needs hyper { learningRate, t, counter }');
      if (!Number.isInteger(hyper.counter) || hyper.counter < 0 || hyper.counter > 0xffffffff) throw new ValueError(`run hyper.counter must be a u32, but counter=${hyper.counter}`);
      if (update && !Number.isFinite(hyper.learningRate)) throw new ValueError(`run hyper.learningRate must be a finite number, but learningRate=${hyper.learningRate}`);
      if (update && !(Number.isInteger(hyper.t) && hyper.t >= 1)) throw new ValueError(`run hyper.t must be an integer >= 1, but t=${hyper.t}`);
      // the caller may refill its arrays while this run waits for the previous ones
      const args = inputs.map((x) => x.slice());
      const h = { learningRate: hyper.learningRate, t: hyper.t, counter: hyper.counter };
      return this.#enqueue(() => this.#runOnce(args, h, update, read));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  write(tensor: number, data: Float32Array): Promise<void> {
    try {
      this.#checkTensors('write tensor', [tensor]);
      const want = product(this.#plan.tensors[tensor].shape);
      if (!(data instanceof Float32Array) || data.length !== want) throw new ValueError(`write of tensor ${tensor} needs a Float32Array of ${want} values, but got ${data instanceof Float32Array ? `${data.length} values` : typeof data}`);
      const copy = data.slice();
      return this.#enqueue(async () => {
        this.#device.queue.writeBuffer(this.#arena, this.#plan.tensors[tensor].offset, copy);
      });
    } catch (e) {
      return Promise.reject(e);
    }
  }

  read(tensors: readonly number[]): Promise<Float32Array[]> {
    try {
      const ids = [...this.#checkTensors('read tensors', tensors)];
      return this.#enqueue(async () => {
        this.#device.pushErrorScope('validation');
        const encoder = this.#device.createCommandEncoder({ label: 'lasagne training read' });
        return this.#finish(encoder, ids);
      });
    } catch (e) {
      return Promise.reject(e);
    }
  }

  async #runOnce(inputs: Float32Array[], hyper: TrainingHyper, update: boolean, read: readonly number[]): Promise<Float32Array[]> {
    const device = this.#device;
    const plan = this.#plan;
    inputs.forEach((x, i) => device.queue.writeBuffer(this.#arena, plan.tensors[plan.inputs[i]].offset, (isPlainData(x) ? x : x.slice()) as Float32Array<ArrayBuffer>));
    for (const w of this.#perRun) {
      if (w.kind === 'counter') device.queue.writeBuffer(this.#uniforms, w.byte, new Uint32Array([hyper.counter >>> 0]));
      else if (update) device.queue.writeBuffer(this.#uniforms, w.byte, new Float32Array([updateScalar({ rule: w.rule as UpdateRule, beta1: w.beta1 ?? 0, beta2: w.beta2 ?? 0 }, hyper)]));
    }
    device.pushErrorScope('validation');
    const encoder = device.createCommandEncoder({ label: 'lasagne training run' });
    const pass = encoder.beginComputePass({ label: 'lasagne training steps' });
    for (const p of this.#passes) {
      if (p.update && !update) continue;
      pass.setPipeline(p.pipeline);
      pass.setBindGroup(0, p.bindGroup);
      pass.dispatchWorkgroups(p.workgroups[0], p.workgroups[1]);
    }
    pass.end();
    return this.#finish(encoder, read);
  }

  /**
   * Copies `ids` into the readback buffer, submits `encoder` (inside a validation scope the caller
   * pushed), maps, and returns the tensors' contents. Validation errors and a lost device reject.
   */
  async #finish(encoder: GPUCommandEncoder, ids: readonly number[]): Promise<Float32Array[]> {
    const device = this.#device;
    const tensors = ids.map((id) => this.#plan.tensors[id]);
    const at: number[] = [];
    let bytes = 0;
    for (const t of tensors) {
      at.push(bytes);
      bytes += Math.ceil(Math.max(4, 4 * product(t.shape)) / 256) * 256;
    }
    let readback: GPUBuffer | null = null;
    if (bytes > 0) {
      if (this.#readback === null || this.#readback.size < bytes) {
        this.#readback?.destroy();
        this.#readback = device.createBuffer({ label: 'lasagne training readback', size: bytes, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
      }
      readback = this.#readback;
      tensors.forEach((t, i) => {
        const n = 4 * product(t.shape);
        if (n > 0) encoder.copyBufferToBuffer(this.#arena, t.offset, readback as GPUBuffer, at[i], n);
      });
    }
    device.queue.submit([encoder.finish()]);
    const validation = device.popErrorScope();
    const done = readback !== null ? readback.mapAsync(MAP_MODE_READ) : device.queue.onSubmittedWorkDone();
    const lost = this.#watch.lost.then((l) => Promise.reject(deviceLostError(l, 'during this run')));
    await settleSubmission(this.#watch, Promise.race([done, lost]), () => validation, readback, () => this.#disposed, {
      disposed: 'this training plan was disposed while it ran',
      failed: 'WebGPU training run failed',
    });
    if (readback === null) return [];
    try {
      return tensors.map((t, i) => {
        const n = product(t.shape);
        return new Float32Array(readback.getMappedRange(at[i], Math.max(4, 4 * n)).slice(0, 4 * n));
      });
    } finally {
      readback.unmap();
    }
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const b of this.#buffers) b.destroy();
    this.#readback?.destroy();
    this.#readback = null;
    this.#buffers.length = 0;
    this.#passes = [];
  }
}
