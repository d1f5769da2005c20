/// <reference types="@webgpu/types" />
/**
 * The one pipeline cache: per device (a WeakMap, so a dropped device takes its cache with it), shader
 * modules per kernel family, bind group layouts per binding shape, and compute pipelines keyed by
 * exactly what changes the code: family, entry point and override constants. Pipelines are created
 * with createComputePipelineAsync and cached as promises, so concurrent prepares share one compile.
 */
import { WGSL } from './shaders.generated.js';
import { SHADER_STAGE_COMPUTE } from './device.js';
import type { KernelFamily } from './kernels.js';

/** Binding shapes: the GEMM kernels bind arena, weights, bias, params; the others arena, params. */
export type LayoutKind = 'gemm' | 'copy';

export const LAYOUT_OF: Readonly<Record<KernelFamily, LayoutKind>> = Object.freeze({
  filter_acts: 'gemm',
  nin: 'gemm',
  max_pool: 'copy',
  shuffle: 'copy',
});

interface DeviceCache {
  modules: Map<KernelFamily, GPUShaderModule>;
  layouts: Map<LayoutKind, { group: GPUBindGroupLayout; pipeline: GPUPipelineLayout }>;
  pipelines: Map<string, Promise<GPUComputePipeline>>;
}

const caches = new WeakMap<GPUDevice, DeviceCache>();

function cacheOf(device: GPUDevice): DeviceCache {
  let c = caches.get(device);
  if (c === undefined) {
    c = { modules: new Map(), layouts: new Map(), pipelines: new Map() };
    caches.set(device, c);
  }
  return c;
}

/** The WGSL source of a family: the kernel file, after epilogue.wgsl for the fused-activation kernels. */
export function sourceOf(family: KernelFamily): string {
  return LAYOUT_OF[family] === 'gemm' ? `${WGSL.epilogue}\n${WGSL[family]}` : WGSL[family];
}

function moduleOf(device: GPUDevice, family: KernelFamily): GPUShaderModule {
  const cache = cacheOf(device);
  let m = cache.modules.get(family);
  if (m === undefined) {
    m = device.createShaderModule({ label: `lasagne ${family}.wgsl`, code: sourceOf(family) });
    cache.modules.set(family, m);
  }
  return m;
}

/** The bind group layout (and pipeline layout) of a binding shape on a device. */
export function layoutOf(device: GPUDevice, kind: LayoutKind): { group: GPUBindGroupLayout; pipeline: GPUPipelineLayout } {
  const cache = cacheOf(device);
  let l = cache.layouts.get(kind);
  if (l === undefined) {
    const entries: GPUBindGroupLayoutEntry[] =
      kind === 'gemm'
        ? [
            { binding: 0, visibility: SHADER_STAGE_COMPUTE, buffer: { type: 'storage' } },
            { binding: 1, visibility: SHADER_STAGE_COMPUTE, buffer: { type: 'read-only-storage' } },
            { binding: 2, visibility: SHADER_STAGE_COMPUTE, buffer: { type: 'read-only-storage' } },
            { binding: 3, visibility: SHADER_STAGE_COMPUTE, buffer: { type: 'uniform' } },
          ]
        : [
            { binding: 0, visibility: SHADER_STAGE_COMPUTE, buffer: { type: 'storage' } },
            { binding: 1, visibility: SHADER_STAGE_COMPUTE, buffer: { type: 'uniform' } },
          ];
    const group = device.createBindGroupLayout({ label: `lasagne ${kind} bind group layout`, entries });
    const pipeline = device.createPipelineLayout({ label: `lasagne ${kind} pipeline layout`, bindGroupLayouts: [group] });
    l = { group, pipeline };
    cache.layouts.set(kind, l);
  }
  return l;
}

/** The cache key of a pipeline: family, entry point and the override constants in name order. */
export function pipelineKey(family: KernelFamily, entryPoint: string, constants: Record<string, number>): string {
  const c = Object.keys(constants)
    .sort()
    .map((k) => `${k}=${constants[k]}`)
    .join(',');
  return `${family}.${entryPoint}(${c})`;
}

/** The compute pipeline for a launch, compiled once per device and key. Rejects with the compiler's message. */
export function pipelineOf(device: GPUDevice, family: KernelFamily, entryPoint: string, constants: Record<string, number>): Promise<GPUComputePipeline> {
  const cache = cacheOf(device);
  const key = pipelineKey(family, entryPoint, constants);
  let p = cache.pipelines.get(key);
  if (p === undefined) {
    p = device
      .createComputePipelineAsync({
        label: `lasagne ${key}`,
        layout: layoutOf(device, LAYOUT_OF[family]).pipeline,
        compute: { module: moduleOf(device, family), entryPoint, constants },
      })
      .catch((err: unknown) => {
        cache.pipelines.delete(key);
        throw new Error(`WebGPU could not create the pipeline ${key}: ${err instanceof Error ? err.message : String(err)}`);
      });
    cache.pipelines.set(key, p);
  }
  return p;
}
