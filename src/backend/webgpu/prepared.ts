/// <reference types="@webgpu/types" />
/**
 * A plan prepared on one device: everything a run needs is created here, once. One arena buffer laid
 * out by the planner, one buffer per parameter (in kernel layout), one uniform buffer holding every
 * step's Params, one bind group per step, readback slots (one mappable buffer each, holding every
 * output and, with timestamp queries, the step timestamps) and the query set. A run writes the changed
 * parameters and the inputs, encodes every step into one command buffer, and maps its slot once: the
 * command encoder is the only object it creates on the device. Slots are used in turn, so runs called
 * without awaiting the previous one are in flight together (up to PIPELINE_DEPTH): the next run's
 * upload and submission overlap this one's GPU work and readback. The GPU queue keeps their order.
 */
import type { ParamSource } from '../backend.js';
import { withScratch } from '../../ops/plan.js';
import { RuntimeError, ValueError } from '../../errors.js';
import { shapeSize, type NDArray } from '../../ndarray.js';
import { kernelWeights, ninWeights } from '../../ops/weights.js';
import { ParamCapture, deviceLostError, isPlainData, type ParamValue, type PreparedNetwork, type StepTiming } from '../backend.js';
import { BufferUsage, MAP_MODE_READ, watchDevice, type DeviceHandle, type DeviceWatch } from './device.js';
import { arenaBufferBytes, ninKernelWeights, paramElements, paramKey, type KernelPlan, type Launch, type ParamLayout } from './geometry.js';
import { launchOf, scratchNeeds } from './ops/index.js';
import { layoutKindOf, layoutOf, pipelineOf } from './pipelines.js';
import { UNIFORM_STRIDE, awaitBuild, limitsOf, popScopes, settleSubmission } from './submit.js';

interface ParamBuffer {
  param: number;
  layout: ParamLayout;
  buffer: GPUBuffer;
  /** Param.version last uploaded (-1: never). */
  version: number;
}

/** A mappable buffer a run copies its outputs and timestamps into, and the run that holds it. */
interface ReadbackSlot {
  buffer: GPUBuffer;
  /** Settles when the slot's last queued job has. */
  busy: Promise<unknown>;
  /** Jobs queued on the slot and not settled. */
  jobs: number;
}

/** Offset alignment of the outputs in a readback buffer (copyBufferToBuffer and getMappedRange need 4 and 8). */
const READBACK_ALIGN = 256;
/**
 * Runs that write timestamps: the first and every PROFILE_EVERY-th after it. Timing a run costs one
 * compute pass per step and a resolve (on an H100 about 0.15 ms per run of the CIFAR-10 network at
 * batch 128, as much as half its kernel time); profile() reports the latest timed run.
 */
const PROFILE_EVERY = 16;
/** Runs in flight at once when the readback buffers are small (the next run's upload and encoding overlap this one's GPU work). */
const PIPELINE_DEPTH = 3;
/** Above this many readback bytes per run, one slot only: runs wait for each other rather than hold copies of large outputs. */
const PIPELINED_READBACK_BYTES = 64 * 2 ** 20;

interface StepRun {
  /** Further dispatches with the same bind group, in order (split-K's split_sum; Winograd's passes). */
  then: { pipeline: GPUComputePipeline; workgroups: [number, number] }[];
  label: string;
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  workgroups: [number, number];
}


/** A parameter's data (its value `v` as captured for a run) in its buffer layout. */
function layoutData(p: ParamSource, v: NDArray, layout: ParamLayout): Float32Array {
  const expected = layout.kind === 'raw' ? layout.elements : layout.kind === 'nin' ? layout.units * layout.channels : paramElements(layout);
  if (v.data.length !== expected) {
    throw new ValueError(`parameter ${p.name} has ${v.data.length} values, but its kernel step needs ${expected}`);
  }
  switch (layout.kind) {
    case 'conv':
      return kernelWeights(layout.step, v);
    case 'nin':
      // (a DenseLayer's (C, U) transposed to the (U, C) form first)
      return ninKernelWeights(layout.weightLayout === 'cu' ? ninWeights(layout.units, layout.channels, 'cu', v) : v.data, layout.units, layout.channels);
    case 'raw':
      return v.data;
  }
}

/** Every tensor must lie inside the arena at a 4-byte offset: WebGPU would clamp a wider binding silently. */
function checkLayout(plan: KernelPlan): void {
  for (const t of plan.tensors) {
    const end = t.offset + 4 * shapeSize(t.shape);
    if (!Number.isInteger(t.offset) || t.offset < 0 || t.offset % 4 !== 0 || end > plan.arenaBytes) {
      throw new ValueError(`plan tensor ${t.id} (offset ${t.offset}, ${4 * shapeSize(t.shape)} bytes) does not lie inside the ${plan.arenaBytes}-byte arena`);
    }
  }
}

export class WebGpuPreparedNetwork implements PreparedNetwork {
  readonly description: string;
  readonly #device: GPUDevice;
  readonly #plan: KernelPlan;
  readonly #params: readonly ParamSource[];
  readonly #buffers: (GPUBuffer | GPUQuerySet)[] = [];
  #arena!: GPUBuffer;
  #paramBuffers: ParamBuffer[] = [];
  #steps: StepRun[] = [];
  /** Readback slots, used in turn: a run submits as soon as its slot is free, so up to #slots.length runs are in flight. */
  #slots: ReadbackSlot[] = [];
  #nextSlot = 0;
  /** Byte offsets in a slot's buffer of each output and of the timestamps (-1: none). */
  #outputOffsets: number[] = [];
  #timestampOffset = -1;
  #timestamps: { querySet: GPUQuerySet; resolve: GPUBuffer; count: number } | null = null;
  #lastTimes: StepTiming[] | null = null;
  /** Runs started (which of them write timestamps: PROFILE_EVERY). */
  #runs = 0;
  #disposed = false;
  /** Parameter values as each run() call sees them. */
  readonly #capture: ParamCapture;
  readonly #watch: DeviceWatch;
  /** Rejections of the device waits in progress (#untilLost). */
  readonly #onLoss = new Set<(e: Error) => void>();

  /** The plan this network runs (with any scratch create() added to a step plan). */
  get plan(): KernelPlan {
    return this.#plan;
  }

  /** Bytes of every buffer this network holds (arena, parameters, uniforms, readback, timestamps); 0 once disposed. */
  get deviceBytes(): number {
    let n = 0;
    for (const b of this.#buffers) if ('size' in b) n += b.size; // (query sets: a few timestamps, not counted)
    return n;
  }

  /** Bytes of the arena buffer: the plan's arenaBytes rounded up to 16, and nothing else. */
  get arenaBufferBytes(): number {
    return this.#arena.size;
  }

  private constructor(handle: DeviceHandle, plan: KernelPlan, params: readonly ParamSource[]) {
    this.#device = handle.device;
    this.#plan = plan;
    this.#params = params;
    this.#capture = new ParamCapture(params);
    this.#watch = watchDevice(handle.device);
    // (weakly: the device's lost promise must not keep every network made on it alive)
    const waits = new WeakRef(this.#onLoss);
    void this.#watch.lost.then((loss) => {
      const pending = waits.deref();
      for (const reject of pending ?? []) reject(deviceLostError(loss, 'during this run'));
      pending?.clear();
    });
    this.description = handle.description;
  }

  /**
   * `p`, or a rejection naming the loss if the device is lost first (a lost device may leave a map
   * pending). The loss rejects the pending ones through #onLoss: no reaction is left on the
   * device's long-lived lost promise per run.
   */
  #untilLost<T>(p: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#onLoss.add(reject);
      p.then(resolve, reject).finally(() => this.#onLoss.delete(reject));
    });
  }

  /**
   * Creates every buffer, pipeline and bind group of a plan. Validation and allocation errors
   * reject. A step plan without the scratch this device's tiles take gets it first (withScratch),
   * so the arena buffer is exactly the plan's arenaBytes (rounded up to 16).
   */
  static async create(handle: DeviceHandle, plan: KernelPlan, params: readonly ParamSource[]): Promise<WebGpuPreparedNetwork> {
    const net = new WebGpuPreparedNetwork(handle, withScratch(plan, scratchNeeds(plan.steps, limitsOf(handle))), params);
    try {
      await net.#build(handle);
      // (so that compile() rejects rather than resolve to a dead network)
      await awaitBuild(handle, net.#watch, 'while the network was prepared');
    } catch (err) {
      net.dispose();
      throw err;
    }
    return net;
  }

  #buffer(label: string, size: number, usage: number): GPUBuffer {
    const b = this.#device.createBuffer({ label, size, usage });
    this.#buffers.push(b);
    return b;
  }

  async #build(handle: DeviceHandle): Promise<void> {
    const device = this.#device;
    const plan = this.#plan;
    checkLayout(plan);
    const launches: Launch[] = plan.steps.map((s) => launchOf(plan, s, limitsOf(handle)));
    // Compiles start now, all in parallel, while the buffers are made.
    const pipelines = Promise.all(launches.map((l) => pipelineOf(device, l.family, l.entryPoint, l.constants, l.defines, l.arena)));
    const follows = Promise.all(launches.map((l) => Promise.all((l.then ?? []).map((f) => pipelineOf(device, l.family, f.entryPoint, f.constants, l.defines, l.arena)))));
    // (awaited below; this only keeps a failure that comes while buffers are made from going unhandled)
    pipelines.catch(() => undefined);
    follows.catch(() => undefined);
    device.pushErrorScope('out-of-memory');
    device.pushErrorScope('validation');
    try {
      this.#arena = this.#buffer(
        `lasagne arena (${plan.arenaBytes} bytes)`,
        arenaBufferBytes(plan.arenaBytes),
        BufferUsage.STORAGE | BufferUsage.COPY_DST | BufferUsage.COPY_SRC,
      );
      const byKey = new Map<string, ParamBuffer>();
      const paramBuffer = (ref: { param: number; layout: ParamLayout }): ParamBuffer => {
        const key = paramKey(ref.param, ref.layout);
        let pb = byKey.get(key);
        if (pb === undefined) {
          const p = this.#params[ref.param];
          if (p === undefined) throw new ValueError(`plan refers to parameter ${ref.param}, but only ${this.#params.length} were given`);
          const size = Math.max(16, 4 * paramElements(ref.layout));
          pb = { ...ref, buffer: this.#buffer(`lasagne param ${p.name} (${ref.layout.kind})`, size, BufferUsage.STORAGE | BufferUsage.COPY_DST), version: -1 };
          byKey.set(key, pb);
          this.#paramBuffers.push(pb);
        }
        return pb;
      };
      const uniforms = this.#buffer('lasagne step params', Math.max(1, launches.length) * UNIFORM_STRIDE, BufferUsage.UNIFORM | BufferUsage.COPY_DST);
      const uniformData = new Uint8Array(Math.max(1, launches.length) * UNIFORM_STRIDE);
      launches.forEach((l, i) => uniformData.set(new Uint8Array(l.uniform), i * UNIFORM_STRIDE));
      device.queue.writeBuffer(uniforms, 0, uniformData);

      const groups = launches.map((l, i) => {
        const step = plan.steps[i];
        const arena = { binding: 0, resource: { buffer: this.#arena, offset: l.arenaRange.offset, size: l.arenaRange.size } };
        const params = { buffer: uniforms, offset: i * UNIFORM_STRIDE, size: l.uniform.byteLength };
        const kind = layoutKindOf(l.family);
        let entries: GPUBindGroupEntry[];
        if (kind === 'gemm') {
          if (l.weight === undefined) throw new ValueError(`step ${i} (${step.op}) has no weight`);
          const w = paramBuffer(l.weight).buffer;
          // Without a bias the kernel never reads binding 2; the weights stand in for it.
          const b = l.bias === undefined ? w : paramBuffer(l.bias).buffer;
          entries = [arena, { binding: 1, resource: { buffer: w } }, { binding: 2, resource: { buffer: b } }, { binding: 3, resource: params }];
        } else {
          entries = [arena, { binding: 1, resource: params }];
        }
        return device.createBindGroup({ label: `lasagne step ${i} ${step.op} (${step.layer})`, layout: layoutOf(device, kind).group, entries });
      });

      // (a query set holds at most 4096 queries: two per step)
      if (handle.timestamps && launches.length > 0 && 2 * launches.length <= 4096) {
        const count = 2 * launches.length;
        const querySet = device.createQuerySet({ label: 'lasagne step timestamps', type: 'timestamp', count });
        this.#buffers.push(querySet);
        this.#timestamps = { querySet, count, resolve: this.#buffer('lasagne timestamp resolve', 8 * count, BufferUsage.QUERY_RESOLVE | BufferUsage.COPY_SRC) };
      }
      // One mappable buffer per slot holds every output and the step timestamps: one map per run.
      let bytes = 0;
      this.#outputOffsets = plan.outputs.map((id) => {
        const at = bytes;
        bytes += Math.ceil((4 * shapeSize(plan.tensors[id].shape)) / READBACK_ALIGN) * READBACK_ALIGN;
        return at;
      });
      if (this.#timestamps !== null) {
        this.#timestampOffset = bytes;
        bytes += 8 * this.#timestamps.count;
      }
      const slots = bytes <= PIPELINED_READBACK_BYTES ? PIPELINE_DEPTH : 1;
      for (let i = 0; i < slots; i++) {
        const buffer = this.#buffer(`lasagne readback ${i}`, Math.max(READBACK_ALIGN, bytes), BufferUsage.MAP_READ | BufferUsage.COPY_DST);
        this.#slots.push({ buffer, busy: Promise.resolve(), jobs: 0 });
      }
      this.#uploadParams(this.#capture.capture());
      const ready = await pipelines;
      const readyFollows = await follows;
      this.#steps = launches.map((l, i) => ({
        then: (l.then ?? []).map((f, j) => ({ pipeline: readyFollows[i][j], workgroups: f.workgroups })),
        label: `lasagne step ${i} ${plan.steps[i].op} (${plan.steps[i].layer})`,
        pipeline: ready[i],
        bindGroup: groups[i],
        workgroups: l.workgroups,
      }));
    } finally {
      await popScopes(device, 'prepare', 2);
    }
  }

  /**
   * Writes every parameter whose buffer holds another version than `values` (what one run()
   * call captured). Runs may start out of call order (each waits for its own readback slot), so
   * this compares versions rather than assume the buffers are one version behind.
   */
  #uploadParams(values: readonly ParamValue[]): void {
    for (const pb of this.#paramBuffers) {
      const v = values[pb.param];
      if (v.version === pb.version) continue;
      this.#device.queue.writeBuffer(pb.buffer, 0, layoutData(this.#params[pb.param], v.value, pb.layout) as Float32Array<ArrayBuffer>);
      pb.version = v.version;
    }
  }

  run(inputs: Float32Array[]): Promise<Float32Array[]> {
    if (this.#disposed) return Promise.reject(new RuntimeError('this network was disposed; compile it again to run it'));
    if (this.#watch.loss !== null) return Promise.reject(deviceLostError(this.#watch.loss, 'before this run'));
    const plan = this.#plan;
    if (!Array.isArray(inputs) || inputs.length !== plan.inputs.length) {
      return Promise.reject(new ValueError(`run needs ${plan.inputs.length} input arrays, but got ${Array.isArray(inputs) ? inputs.length : typeof inputs}`));
    }
    for (let i = 0; i < inputs.length; i++) {
      const want = shapeSize(plan.tensors[plan.inputs[i]].shape);
      if (!(inputs[i] instanceof Float32Array) || inputs[i].length !== want) {
        return Promise.reject(new ValueError(`run input ${i} must be a Float32Array of ${want} values`));
      }
    }
    // Shared or resizable views are copied now (Dawn's writeBuffer crashes on shared ones); a run
    // that must wait for its slot works on a copy (the caller may refill its arrays meanwhile), and
    // on the parameter values of this call.
    let args = inputs.map((x) => (isPlainData(x) ? x : x.slice()));
    const values = this.#capture.capture();
    return this.#inSlot((slot) => this.#runOnce(args, values, slot), () => {
      args = args.map((x, i) => (x === inputs[i] ? x.slice() : x));
    });
  }

  /**
   * Runs `job` in the next slot in turn: now (its upload and submission happen during this call)
   * when the slot is free, else after the slot's previous job (which has then copied its outputs
   * out), calling `deferred` first.
   */
  #inSlot<T>(job: (slot: ReadbackSlot) => Promise<T>, deferred?: () => void): Promise<T> {
    const slot = this.#slots[this.#nextSlot];
    this.#nextSlot = (this.#nextSlot + 1) % this.#slots.length;
    let next: Promise<T>;
    if (slot.jobs === 0) {
      next = job(slot);
    } else {
      deferred?.();
      next = slot.busy.then(() => job(slot));
    }
    slot.jobs++;
    slot.busy = next.then(
      () => void slot.jobs--,
      () => void slot.jobs--,
    );
    return next;
  }

  /**
   * Encodes the steps `repeat` times into `encoder`, one compute pass per step when timing (each
   * pass writes its step's two timestamps, so the last repetition's remain), else one pass in all.
   */
  #encodeSteps(encoder: GPUCommandEncoder, repeat: number, timed: boolean, whole = false): void {
    const ts = timed && !whole ? this.#timestamps : null;
    let pass: GPUComputePassEncoder | null = null;
    if (whole && this.#timestamps !== null) {
      // one pass for all repetitions, timestamps 0 and 1 around it (timeBackToBack)
      pass = encoder.beginComputePass({ label: 'lasagne back to back', timestampWrites: { querySet: this.#timestamps.querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } });
    }
    for (let r = 0; r < repeat; r++) {
      this.#steps.forEach((s, i) => {
        if (ts !== null || pass === null) {
          pass = encoder.beginComputePass(
            ts !== null
              ? { label: s.label, timestampWrites: { querySet: ts.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } }
              : { label: 'lasagne forward' },
          );
        }
        const p = pass as GPUComputePassEncoder;
        p.setPipeline(s.pipeline);
        p.setBindGroup(0, s.bindGroup);
        p.dispatchWorkgroups(s.workgroups[0], s.workgroups[1]);
        for (const f of s.then) {
          p.setPipeline(f.pipeline);
          p.dispatchWorkgroups(f.workgroups[0], f.workgroups[1]);
        }
        if (ts !== null) p.end();
      });
    }
    if (ts === null && pass !== null) (pass as GPUComputePassEncoder).end();
  }

  /** Resolves the timestamps into `slot` (when timing). */
  #encodeTimestamps(encoder: GPUCommandEncoder, slot: ReadbackSlot, timed: boolean): void {
    const ts = this.#timestamps;
    if (ts === null || !timed) return;
    encoder.resolveQuerySet(ts.querySet, 0, ts.count, ts.resolve, 0);
    encoder.copyBufferToBuffer(ts.resolve, 0, slot.buffer, this.#timestampOffset, 8 * ts.count);
  }

  /**
   * Submits `encoder`, maps the slot's buffer, surfaces validation errors, and reads the timestamps
   * (when timing). The caller reads its outputs from the mapped range and unmaps.
   */
  async #submitAndMap(encoder: GPUCommandEncoder, slot: ReadbackSlot, timed: boolean, whole = false): Promise<number | null> {
    const device = this.#device;
    device.queue.submit([encoder.finish({ label: 'lasagne forward' })]);
    const validation = device.popErrorScope();
    await settleSubmission(this.#watch, this.#untilLost(slot.buffer.mapAsync(MAP_MODE_READ)), () => this.#untilLost(validation), slot.buffer, () => this.#disposed, {
      disposed: 'this network was disposed while it ran',
      failed: 'WebGPU run failed',
    });
    const ts = this.#timestamps;
    if (ts !== null && timed) {
      const t = new BigUint64Array(slot.buffer.getMappedRange(this.#timestampOffset, 8 * ts.count).slice(0));
      if (whole) return t[1] > t[0] ? Number(t[1] - t[0]) / 1e6 : 0;
      this.#lastTimes = this.#plan.steps.map((s, i) => ({
        step: s.index,
        layer: s.layer,
        op: s.op,
        ms: t[2 * i + 1] > t[2 * i] ? Number(t[2 * i + 1] - t[2 * i]) / 1e6 : 0,
      }));
    }
    return null;
  }

  async #runOnce(inputs: Float32Array[], values: readonly ParamValue[], slot: ReadbackSlot): Promise<Float32Array[]> {
    if (this.#disposed) throw new RuntimeError('this network was disposed; compile it again to run it');
    if (this.#watch.loss !== null) throw deviceLostError(this.#watch.loss, 'before this run');
    const device = this.#device;
    const plan = this.#plan;
    this.#uploadParams(values);
    inputs.forEach((x, i) => device.queue.writeBuffer(this.#arena, plan.tensors[plan.inputs[i]].offset, x as Float32Array<ArrayBuffer>));
    device.pushErrorScope('validation');
    const encoder = device.createCommandEncoder({ label: 'lasagne forward' });
    // the first run and every PROFILE_EVERY-th after it write timestamps (one pass per step)
    const timed = this.#timestamps !== null && this.#runs++ % PROFILE_EVERY === 0;
    this.#encodeSteps(encoder, 1, timed);
    plan.outputs.forEach((id, i) => {
      encoder.copyBufferToBuffer(this.#arena, plan.tensors[id].offset, slot.buffer, this.#outputOffsets[i], 4 * shapeSize(plan.tensors[id].shape));
    });
    this.#encodeTimestamps(encoder, slot, timed);
    await this.#submitAndMap(encoder, slot, timed);
    try {
      return plan.outputs.map((id, i) => {
        const n = shapeSize(plan.tensors[id].shape);
        return new Float32Array(slot.buffer.getMappedRange(this.#outputOffsets[i], Math.max(4, 4 * n)).slice(0, 4 * n));
      });
    } finally {
      slot.buffer.unmap();
    }
  }

  /**
   * Steady-state GPU time per step, for benchmarks: runs every step `repeat` times back to back in
   * one command buffer on the arena as it is (no upload, no readback; the inputs of the last run, and
   * parameters as last uploaded) and returns the times of the last repetition, which profile() then
   * reports too. Null without timestamp queries.
   */
  timeSteps(repeat = 10): Promise<StepTiming[] | null> {
    return this.#timeRuns('timeSteps', repeat, false, () => this.profile());
  }

  /**
   * Steady-state GPU time of one whole run when runs go back to back, for benchmarks against peers
   * timed the same way (CUDA events around many calls, a replayed graph): `repeat` runs of every step
   * in ONE compute pass between two timestamps, on the arena as it is (like timeSteps), in ms per run.
   * timeSteps times each step in a pass of its own, as tfjs's tf.time does, so it also counts a
   * pass's start and drain per step. Null without timestamp queries; profile() is not changed.
   */
  timeBackToBack(repeat = 10): Promise<number | null> {
    return this.#timeRuns('timeBackToBack', repeat, true, (ms) => (ms === null ? null : ms / repeat));
  }

  /**
   * `repeat` timed runs (timeSteps: one pass per step; `whole`: one pass for all), then `result` of
   * the whole pass's ms (null unless `whole`); null without timestamp queries. `method` names the
   * caller in errors.
   */
  #timeRuns<T>(method: string, repeat: number, whole: boolean, result: (ms: number | null) => T): Promise<T | null> {
    if (this.#disposed) return Promise.reject(new RuntimeError('this network was disposed; compile it again to run it'));
    if (!Number.isInteger(repeat) || repeat < 1) return Promise.reject(new ValueError(`${method} needs a positive integer repeat, but got ${repeat}`));
    return this.#inSlot(async (slot) => {
      if (this.#disposed) throw new RuntimeError('this network was disposed; compile it again to run it');
      if (this.#timestamps === null) return null;
      this.#device.pushErrorScope('validation');
      const encoder = this.#device.createCommandEncoder({ label: 'lasagne timing' });
      this.#encodeSteps(encoder, repeat, true, whole);
      this.#encodeTimestamps(encoder, slot, true);
      const ms = await this.#submitAndMap(encoder, slot, true, whole);
      slot.buffer.unmap();
      return result(ms);
    });
  }

  profile(): StepTiming[] | null {
    return this.#lastTimes === null ? null : this.#lastTimes.map((t) => ({ ...t }));
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const b of this.#buffers) b.destroy();
    this.#buffers.length = 0;
    this.#paramBuffers = [];
    this.#steps = [];
    this.#timestamps = null;
  }
}
