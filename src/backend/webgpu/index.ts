/// <reference types="@webgpu/types" />
/**
 * The WebGPU backend: runs a plan's kernel steps (src/ops/steps.ts) with the WGSL kernels of wgsl/.
 *
 * Device: `options.device` when given (the caller keeps ownership), else one default device per
 * process from `navigator.gpu` or, in Node, the optional `webgpu` package. `available()` is false,
 * never an exception, when neither yields an adapter.
 */
import { RuntimeError, ValueError } from '../../errors.js';
import type { PreparedTraining, TrainingPlan, TrainingStep } from '../../ops/training.js';
import { deviceLostError, isDeviceLost, type AdapterFacts, type Backend, type BackendOptions, type KernelPlan, type ParamSource, type PreparedNetwork } from '../backend.js';
import type { KernelStep } from '../../ops/steps.js';
import { defaultDeviceHandle, forgetDefaultDevice, handleOf, isGpuDevice, watchDevice, type DeviceHandle } from './device.js';
import { DEFAULT_GPU_LIMITS, type GemmTile, type NinTile } from './geometry.js';
import { scratchNeeds } from './ops/index.js';
import { WebGpuPreparedNetwork } from './prepared.js';
import { limitsOf } from './submit.js';
import { trainingScratchNeeds, WebGpuPreparedTraining } from './training.js';

export { DEFAULT_GPU_LIMITS, filterActsTile, type GemmTile, type KernelPlan, type Launch, type PlanTensor } from './geometry.js';
export { filterActsScratchBytes } from './ops/filter_acts.js';
export { launchOf, scratchNeeds } from './ops/index.js';
export { LOSS_KIND_CODES } from './ops/softmax.js';
export { UPDATE_RULE_CODES } from './ops/update.js';
export { pipelineKey, sourceOf } from './pipelines.js';
export { stepPlan } from './step_plan.js';
export { WebGpuPreparedNetwork } from './prepared.js';
export { trainingScratchNeeds, WebGpuPreparedTraining } from './training.js';
export type { ParamSource } from '../backend.js';
export { WGSL } from './shaders.generated.js';

async function handleFor(options: BackendOptions): Promise<DeviceHandle> {
  if (options.device !== undefined) {
    if (!isGpuDevice(options.device)) throw new ValueError('the webgpu backend requires options.device to be a GPUDevice');
    const loss = watchDevice(options.device).loss;
    if (loss !== null) throw deviceLostError(loss, 'before compile (the GPUDevice of options.device)');
    return handleOf(options.device);
  }
  const h = await defaultDeviceHandle();
  if (h === null) {
    throw new RuntimeError(
      "the webgpu backend found no WebGPU adapter: in Node install the optional 'webgpu' package; use backend: 'auto' or 'wasm' to run without a GPU",
    );
  }
  return h;
}

export interface WebGpuPrepareOptions extends BackendOptions {
  /**
   * Kernel variants for a CPU device (short K chunks, which SwiftShader compiles fast) or for a GPU.
   * Default: what the adapter is. Tests set it to reach the GPU variants on SwiftShader.
   */
  cpuVariants?: boolean;
  /** Fields of every filter_acts tile, forced (geometry.ts filterActsTile): benchmark sweeps and tests reaching every variant. */
  tile?: Partial<GemmTile>;
  /** Fields of every nin tile, forced (ops/nin.ts): benchmark sweeps and tests reaching every variant. */
  ninTile?: Partial<NinTile>;
}

/**
 * `create` on the device `options` name (or the default one), given a handle with the options'
 * kernel variants. A lost device rejects with a RuntimeError naming the reason; a lost default
 * device is replaced by a new one (once).
 */
async function onDevice<T>(options: WebGpuPrepareOptions, create: (handle: DeviceHandle) => Promise<T>): Promise<T> {
  let lost: unknown = null;
  for (;;) {
    let h: DeviceHandle;
    try {
      h = await handleFor(options);
    } catch (e) {
      // (no adapter after a loss: the loss is what compile() must hear, to fall back with 'auto')
      throw lost ?? e;
    }
    try {
      return await create({ ...h, cpu: options.cpuVariants ?? h.cpu, tile: options.tile ?? (options.winograd === false ? { ...h.tile, winograd: false } : h.tile), ninTile: options.ninTile ?? h.ninTile });
    } catch (e) {
      if (!isDeviceLost(e) || options.device !== undefined) throw e;
      forgetDefaultDevice(h);
      if (lost !== null) throw e;
      lost = e;
    }
  }
}

/**
 * Prepares a plan with its parameters (in plan.params order) on a device: the entry point the
 * backend and the kernel tests share. A lost device rejects with a RuntimeError naming the reason;
 * a lost default device is replaced by a new one (once).
 */
export function prepareWebGpu(plan: KernelPlan, params: readonly ParamSource[], options: WebGpuPrepareOptions = {}): Promise<WebGpuPreparedNetwork> {
  return onDevice(options, (h) => WebGpuPreparedNetwork.create({ ...h, timestamps: h.timestamps && options.profile !== false }, plan, params));
}

/**
 * Prepares a training plan (src/ops/training.ts) on a device: one arena of plan.arenaBytes, zeroed.
 * A lost default device is replaced by a new one (once), as for prepareWebGpu.
 */
export function prepareWebGpuTraining(plan: TrainingPlan, options: WebGpuPrepareOptions = {}): Promise<WebGpuPreparedTraining> {
  return onDevice(options, (h) => WebGpuPreparedTraining.create(h, plan));
}

export const webgpuBackend: Backend = Object.freeze({
  name: 'webgpu' as const,
  async available(): Promise<boolean> {
    try {
      return (await defaultDeviceHandle()) !== null;
    } catch {
      return false;
    }
  },
  async adapter(): Promise<AdapterFacts | null> {
    try {
      const h = await defaultDeviceHandle();
      return h === null ? null : { description: h.description, software: h.cpu };
    } catch {
      return null;
    }
  },
  // sized for the device the network will run on (its binding limit decides, e.g., whether a layer
  // takes Winograd's scratch), so that prepare() allocates exactly the plan's arenaBytes; with the
  // GPU kernel variants even on a CPU device (they take the most: split K), so that a plan serves both
  scratchBytes(steps: readonly KernelStep[], options: BackendOptions): Promise<number[]> {
    return onDevice(options ?? {}, async (h) => scratchNeeds(steps, { ...limitsOf(h), cpu: false }));
  },
  prepare(plan: KernelPlan, params: readonly ParamSource[], options: BackendOptions): Promise<PreparedNetwork> {
    return prepareWebGpu(plan, params, options ?? {});
  },
  async trainingScratchBytes(steps: readonly TrainingStep[]): Promise<number[]> {
    return trainingScratchNeeds(steps);
  },
  prepareTraining(plan: TrainingPlan, options: BackendOptions): Promise<PreparedTraining> {
    return prepareWebGpuTraining(plan, options ?? {});
  },
});
