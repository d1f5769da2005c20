/**
 * lasagne-webgpu: Lasagne's cuda-convnet layers for the web.
 *
 * ```ts
 * import * as lasagne from 'lasagne-webgpu';
 * import { Conv2DCCLayer, MaxPool2DCCLayer } from 'lasagne-webgpu/layers/cuda_convnet';
 * ```
 */
export * as layers from './layers_api.js';
export * as init from './init.js';
export * as nonlinearities from './nonlinearities.js';
export * as objectives from './objectives.js';
export * as updates from './updates.js';
export * as regularization from './regularization.js';
export * as errors from './errors.js';
export * as random from './random.js';
export { ndarray, type NDArray, type Shape } from './ndarray.js';
export {
  getAllLayers, getOutputShape, getAllParams, countParams, getAllParamValues, setAllParamValues,
} from './layers/helper.js';
export { plan, type NetworkPlan, type PlanOptions, type PlannedTensor, type PlannedLayer } from './compile/plan.js';
export type { KernelStep, FilterActsStep, MaxPoolStep, NinStep, TransposeStep } from './ops/steps.js';
export { loadNpz, loadNpzMembers, saveNpz, NPZ_MAX_BYTES, type LoadNpzOptions } from './io/npz.js';
export { parseNpy, readNpyHeader, encodeNpy, NPY_MAX_HEADER_SIZE, type NpyHeader } from './io/npy.js';
export { MAX_ELEMENTS } from './ndarray.js';
export { loadIdx, type IdxArray, type IdxDtype, type LoadIdxOptions } from './io/idx.js';
export { compile, Network, type CompileOptions, type LayerTiming } from './compile/network.js';
export type { WebGpuDevice } from './backend/backend.js';
export { memory, trackDeviceMemory, releaseDeviceMemory, type MemoryInfo, type MemoryOwnerKind } from './compile/memory.js';
export { compileTraining, Trainer, type TrainingOptions, type GradientsResult, type UpdateSpec, type LossFunction } from './compile/training.js';
export type { TrainingPlan, TrainingStep, TrainingParam } from './ops/training.js';
export { cifar10Net } from './models/cifar10.js';
export { spawnWorker, WorkerNetwork, type SpawnWorkerOptions, type WorkerModel, type WorkerRunOptions } from './worker/spawn_worker.js';
