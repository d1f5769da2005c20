/// <reference types="@webgpu/types" />
import type { DeviceLoss } from '../backend.js';
import type { GemmTile, NinTile } from './geometry.js';
import { describeAdapter as describe, isSoftwareAdapter, type AdapterInfoLike } from '../adapter.js';
import { hasVulkanDriver } from './drivers.js';
/**
 * Device acquisition: a GPUDevice given by the caller, else one default device per process (realm),
 * from the browser's `navigator.gpu` or, in Node, from the optional `webgpu` package (Dawn). The
 * default device asks the adapter for its largest storage-buffer, buffer and workgroup-memory limits
 * and for timestamp queries when it has them. Nothing here throws for a missing GPU: acquisition
 * resolves to null.
 */

/** A device with what the backend needs to know about it. */
export interface DeviceHandle {
  device: GPUDevice;
  /** Adapter vendor / architecture / device, for `PreparedNetwork.description`. */
  description: string;
  /** Whether compute passes can carry timestampWrites. */
  timestamps: boolean;
  /**
   * Whether shaders run on the CPU (a fallback adapter such as SwiftShader): its JIT compile time
   * grows with unrolled code, so the kernels use short K chunks there.
   */
  cpu: boolean;
  /** Forced filter_acts tile fields (kernels.ts KernelLimits.tile); absent on every real handle. */
  tile?: Partial<GemmTile>;
  /** Forced nin tile fields (KernelLimits.ninTile); absent on every real handle. */
  ninTile?: Partial<NinTile>;
}

/** GPUBufferUsage, GPUShaderStage and GPUMapMode values (the globals are absent in Node without `webgpu`'s `globals`). */
export const BufferUsage = Object.freeze({
  MAP_READ: 0x1,
  COPY_SRC: 0x4,
  COPY_DST: 0x8,
  UNIFORM: 0x40,
  STORAGE: 0x80,
  QUERY_RESOLVE: 0x200,
});
export const SHADER_STAGE_COMPUTE = 0x4;
export const MAP_MODE_READ = 0x1;

/**
 * Dawn's toggles for the Node default device. Timestamps: Dawn quantizes them (to 65.5 us on some
 * adapters) unless told not to; profiles here are for the user's own network, so Node asks for exact
 * ones. Workgroup memory: every kernel of wgsl/ writes each workgroup element before reading it, so
 * Dawn's zero-initialisation only costs time (about 1 s of JIT per GEMM pipeline on SwiftShader).
 */
export const NODE_DAWN_FLAGS = Object.freeze([
  'disable-dawn-features=timestamp_quantization',
  'enable-dawn-features=disable_workgroup_init',
]);

interface NodeWebGpuModule {
  create(flags: string[]): GPU;
}

// The `webgpu` module's GPU object: kept alive as long as devices made from it may be in use.
let nodeGpu: GPU | null | undefined;

async function gpuEntry(): Promise<GPU | null> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
  if (proc?.versions?.node === undefined) return null;
  if (nodeGpu !== undefined) return nodeGpu;
  // Linux without a Vulkan driver: Dawn would find no adapter and print the Vulkan loader's
  // warnings on stderr, so it is not loaded at all.
  if (!(await hasVulkanDriver())) {
    nodeGpu = null;
    return nodeGpu;
  }
  try {
    // A variable specifier: bundlers and tsc leave the optional dependency alone.
    const specifier = 'webgpu';
    const mod = (await import(/* @vite-ignore */ specifier)) as NodeWebGpuModule;
    nodeGpu = mod.create([...NODE_DAWN_FLAGS]);
  } catch {
    nodeGpu = null;
  }
  return nodeGpu;
}

/** Whether an adapter runs on the CPU (WebGPU's fallback adapter, or a software implementation by name). */
export function isCpuAdapter(info: GPUAdapterInfo | undefined, fallback = false): boolean {
  return isSoftwareAdapter(info as AdapterInfoLike | undefined, fallback);
}

/** Adapter vendor, architecture and device as one line (whatever the implementation reports). */
export function describeAdapter(info: GPUAdapterInfo | undefined): string {
  return describe(info as AdapterInfoLike | undefined);
}

let defaultDevice: Promise<DeviceHandle | null> | null = null;
/** The handle defaultDevice resolved to, once it has. */
let defaultResolved: DeviceHandle | null = null;

async function createDefaultDevice(): Promise<DeviceHandle | null> {
  try {
    const gpu = await gpuEntry();
    if (gpu === null) return null;
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (adapter === null) return null;
    const timestamps = adapter.features.has('timestamp-query');
    const a = adapter.limits;
    const device = await adapter.requestDevice({
      label: 'lasagne-webgpu',
      requiredFeatures: timestamps ? ['timestamp-query'] : [],
      requiredLimits: {
        maxStorageBufferBindingSize: a.maxStorageBufferBindingSize,
        maxBufferSize: a.maxBufferSize,
        maxComputeWorkgroupStorageSize: a.maxComputeWorkgroupStorageSize,
      },
    });
    const info = (adapter as GPUAdapter & { info?: GPUAdapterInfo }).info;
    const handle: DeviceHandle = {
      device,
      description: describeAdapter(info),
      timestamps,
      cpu: isCpuAdapter(info, (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter === true),
    };
    defaultResolved = handle;
    // A lost default device is replaced on the next acquisition.
    void watchDevice(device).lost.then(() => forgetDefaultDevice(handle));
    return handle;
  } catch {
    return null;
  }
}

/** The process-wide default device, created on first use; null when there is no WebGPU adapter. */
export function defaultDeviceHandle(): Promise<DeviceHandle | null> {
  if (defaultDevice === null) {
    defaultDevice = createDefaultDevice();
    void defaultDevice.then((h) => {
      if (h === null) defaultDevice = null;
    });
  }
  return defaultDevice;
}

/** Whether `x` looks like a GPUDevice (duck-typed: Dawn's and the browser's classes differ). */
export function isGpuDevice(x: unknown): x is GPUDevice {
  const d = x as Partial<GPUDevice> | null;
  return typeof d === 'object' && d !== null && typeof d.createBuffer === 'function' && typeof d.createComputePipelineAsync === 'function' && typeof d.queue === 'object';
}

/** A handle for a caller's device. */
export function handleOf(device: GPUDevice): DeviceHandle {
  const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  return { device, description: describeAdapter(info), timestamps: device.features.has('timestamp-query'), cpu: isCpuAdapter(info) };
}

/** Whether a device was lost (`loss`, once known) and a promise that settles when it is. */
export interface DeviceWatch {
  readonly loss: DeviceLoss | null;
  readonly lost: Promise<DeviceLoss>;
}

const watches = new WeakMap<GPUDevice, DeviceWatch>();

/** The one watch of a device's `lost` promise (a device without one is never lost). */
export function watchDevice(device: GPUDevice): DeviceWatch {
  let w = watches.get(device);
  if (w === undefined) {
    const entry: { loss: DeviceLoss | null; lost: Promise<DeviceLoss> } = { loss: null, lost: new Promise<DeviceLoss>(() => undefined) };
    const lost = (device as Partial<GPUDevice>).lost;
    if (lost !== undefined && typeof (lost as Promise<unknown>).then === 'function') {
      entry.lost = lost.then((info) => {
        entry.loss = { reason: String(info?.reason ?? 'unknown'), message: String(info?.message ?? '') };
        return entry.loss;
      });
    }
    w = entry;
    watches.set(device, w);
  }
  return w;
}

/**
 * Forgets the default device if it is `handle` (a lost device can be found out before its `lost`
 * promise settles), so the next acquisition creates a new one.
 */
export function forgetDefaultDevice(handle: DeviceHandle): void {
  if (defaultResolved === handle) {
    defaultResolved = null;
    defaultDevice = null;
  }
}
