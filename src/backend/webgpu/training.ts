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
import { shapeSize } from '../../ndarray.js';
import { updateScalar, type PreparedTraining, type TrainingHyper, type TrainingPlan, type TrainingRunOptions, type TrainingStep } from '../../ops/training.js';
import { deviceLostError, isPlainData } from '../backend.js';
import { BufferUsage, MAP_MODE_READ, watchDevice, type DeviceHandle, type DeviceWatch } from './device.js';
import { DEFAULT_GPU_LIMITS, type KernelLimits, type KernelPlan } from './geometry.js';
import { opOf, scratchBytesOf } from './ops/index.js';
import { gridOf, type PerRun } from './ops/op.js';
import { layoutKindOf, backwardPipelineOf, layoutOf, pipelineOf, type LayoutKind } from './pipelines.js';
import { UNIFORM_STRIDE, awaitBuild, limitsOf, popScopes, settleSubmission } from './submit.js';


/**
 * Scratch bytes of each step of a training plan on WebGPU (0: none), as Backend.trainingScratchBytes
 * reports them: filter_acts' split-K partial sums (as a GPU with WebGPU's guaranteed limits takes
 * them), and the backward kernels' partial sums (weight_acts' groups and slices, nin_grad_weight's K
 * slices, bias_act_grad's segment sums). The loss's and the penalties' sums need none (one
 * workgroup each). Sized as for a training plan (wholeArena set): no Winograd scratch unless a
 * tile forces it (geometry.ts winogradFor).
 */
export function trainingScratchNeeds(steps: readonly TrainingStep[]): number[] {
  const limits = { ...DEFAULT_GPU_LIMITS, wholeArena: DEFAULT_GPU_LIMITS.maxStorageBufferBindingSize };
  return steps.map((s) => scratchBytesOf(s, limits));
}

/** One dispatch: its pipeline, binding shape, uniform, grid, and what the host rewrites each run. */
interface PassSpec {
  step: TrainingStep;
  pipeline: Promise<GPUComputePipeline>;
  layout: LayoutKind;
  uniform: ArrayBuffer;
  workgroups: [number, number];
  perRun?: PerRun;
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
    const end = t.offset + 4 * shapeSize(t.shape);
    if (t.id !== i) throw new ValueError(`training plan tensor ${i} has id ${t.id}; tensors must be listed in id order`);
    if (!Number.isInteger(t.offset) || t.offset < 0 || t.offset % 4 !== 0 || end > plan.arenaBytes) {
      throw new ValueError(`training plan tensor ${t.id} (offset ${t.offset}, ${4 * shapeSize(t.shape)} bytes) does not lie inside the ${plan.arenaBytes}-byte arena`);
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
  /** Per-run uniform writes, at a byte offset in the uniform buffer. */
  #perRun: PerRun[] = [];
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
    if (count !== undefined && shapeSize(t.shape) !== count) {
      throw new ValueError(`step ${step.index} (${step.op}, ${step.layer}): ${field} (tensor ${id}) must hold ${count} values, but holds ${shapeSize(t.shape)}`);
    }
    return t.offset / 4;
  }

  /** The passes of one step, in order: its op's descriptor (ops/index.ts), in the shape of its kind. */
  #specsOf(step: TrainingStep, limits: KernelLimits): PassSpec[] {
    const device = this.#device;
    const d = opOf(step.op);
    if (d === undefined) throw new ValueError(`the WebGPU training executor has no kernel for op ${(step as { op: string }).op}`);
    const grid = gridOf(limits.maxComputeWorkgroupsPerDimension);
    switch (d.kind) {
      case 'forward': {
        const l = d.launch(this.#plan as unknown as KernelPlan, step as never, limits);
        const spec = (entryPoint: string, constants: Record<string, number>, workgroups: [number, number], perRun?: PerRun): PassSpec => ({
          step, pipeline: pipelineOf(device, l.family, entryPoint, constants, l.defines, l.arena), layout: layoutKindOf(l.family), uniform: l.uniform, workgroups, perRun,
        });
        const first = spec(l.entryPoint, l.constants, l.workgroups, d.perRun);
        return [first, ...(l.then ?? []).map((f) => spec(f.entryPoint, f.constants, f.workgroups))];
      }
      case 'backward': {
        const at = { tensor: (id: number) => this.#off(step, 'a tensor', id), weight: (id: number) => this.#off(step, 'the weight', id) };
        return d.launches(step as never, at, grid).map((l) => ({
          step, pipeline: backwardPipelineOf(device, l.file, l.entry, d.weightInArena ? { ...l.constants, W_ARENA: 1 } : l.constants),
          layout: 'backward' as const, uniform: l.params, workgroups: l.workgroups,
        }));
      }
      case 'training':
        return d.passes(step as never, (field, id, count) => this.#off(step, field, id, count), grid).map((p) => ({
          step, pipeline: pipelineOf(device, p.family, p.entryPoint, p.constants), layout: layoutKindOf(p.family), uniform: p.uniform, workgroups: p.workgroups, perRun: p.perRun,
        }));
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
        if (s.perRun !== undefined) this.#perRun.push({ ...s.perRun, byte: i * UNIFORM_STRIDE + s.perRun.byte });
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
        const want = shapeSize(plan.tensors[plan.inputs[i]].shape);
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
      const want = shapeSize(this.#plan.tensors[tensor].shape);
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
      else if (update) device.queue.writeBuffer(this.#uniforms, w.byte, new Float32Array([updateScalar({ rule: w.rule, beta1: w.beta1, beta2: w.beta2 }, hyper)]));
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
      bytes += Math.ceil(Math.max(4, 4 * shapeSize(t.shape)) / 256) * 256;
    }
    let readback: GPUBuffer | null = null;
    if (bytes > 0) {
      if (this.#readback === null || this.#readback.size < bytes) {
        this.#readback?.destroy();
        this.#readback = device.createBuffer({ label: 'lasagne training readback', size: bytes, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
      }
      readback = this.#readback;
      tensors.forEach((t, i) => {
        const n = 4 * shapeSize(t.shape);
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
        const n = shapeSize(t.shape);
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
