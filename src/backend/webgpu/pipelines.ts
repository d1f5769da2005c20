/// <reference types="@webgpu/types" />
/**
 * The one pipeline cache: per device (a WeakMap, so a dropped device takes its cache with it), shader
 * modules per kernel family and defines, bind group layouts per binding shape, and compute pipelines
 * keyed by exactly what changes the code: family, defines, entry point and override constants. Pipelines are created
 * with createComputePipelineAsync and cached as promises, so concurrent prepares share one compile.
 */
import { SHADER_STAGE_COMPUTE } from './device.js';
import type { ArenaView } from './geometry.js';
import { backwardSource } from './backward.js';
import { FAMILIES, type BackwardFile, type KernelFamily } from './ops/index.js';
import type { LayoutKind } from './ops/op.js';

export type { LayoutKind };

/** The binding shape of a family's pipelines. */
export const layoutKindOf = (family: KernelFamily): LayoutKind => FAMILIES[family].layout;

/**
 * Consts a family's source needs from the host, prepended as `const NAME: u32 = Vu;` (array widths
 * that must be creation-time constants: an override-sized array cannot be the element of another).
 */
export type Defines = Readonly<Record<string, number>>;

interface DeviceCache {
  modules: Map<string, GPUShaderModule>;
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

function definesKey(defines: Defines): string {
  return Object.keys(defines)
    .sort()
    .map((k) => `${k}=${defines[k]}`)
    .join(',');
}

/**
 * The WGSL source of a family: its defines as consts, then its files (ops/ FAMILIES: for the GEMM
 * kernels their view of the arena, arena_vec4.wgsl or arena_scalar.wgsl, first; the kernel file
 * last). Whole files, in this order, never fragments.
 */
export function sourceOf(family: KernelFamily, defines: Defines = {}, arena: ArenaView = 'scalar'): string {
  const consts = Object.keys(defines)
    .sort()
    .map((k) => {
      const v = defines[k];
      if (!/^[A-Z][A-Z0-9_]*$/.test(k) || !Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error(`bad define ${k}=${v}`);
      return `const ${k}: u32 = ${v}u;\n`;
    })
    .join('');
  return consts + FAMILIES[family].files(arena).join('\n');
}

function moduleKey(family: KernelFamily, defines: Defines, arena: ArenaView | undefined): string {
  return `${family}${arena === undefined ? '' : `@${arena}`}[${definesKey(defines)}]`;
}

function moduleOf(device: GPUDevice, family: KernelFamily, defines: Defines, arena: ArenaView | undefined): GPUShaderModule {
  const cache = cacheOf(device);
  const key = moduleKey(family, defines, arena);
  let m = cache.modules.get(key);
  if (m === undefined) {
    m = device.createShaderModule({ label: `lasagne ${key}`, code: sourceOf(family, defines, arena) });
    cache.modules.set(key, m);
  }
  return m;
}

/** The bind group layout (and pipeline layout) of a binding shape on a device. */
export function layoutOf(device: GPUDevice, kind: LayoutKind): { group: GPUBindGroupLayout; pipeline: GPUPipelineLayout } {
  const cache = cacheOf(device);
  let l = cache.layouts.get(kind);
  if (l === undefined) {
    const entries: GPUBindGroupLayoutEntry[] =
      kind === 'backward'
        ? [
            { binding: 0, visibility: SHADER_STAGE_COMPUTE, buffer: { type: 'storage' } },
            { binding: 1, visibility: SHADER_STAGE_COMPUTE, buffer: { type: 'read-only-storage' } },
            { binding: 2, visibility: SHADER_STAGE_COMPUTE, buffer: { type: 'uniform' } },
          ]
        : kind === 'gemm'
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

/** The cache key of a pipeline: family, arena view, defines, entry point and the override constants, in name order. */
export function pipelineKey(family: KernelFamily, entryPoint: string, constants: Record<string, number>, defines: Defines = {}, arena?: ArenaView): string {
  return `${moduleKey(family, defines, arena)}.${entryPoint}(${definesKey(constants)})`;
}

/** The compute pipeline for a launch, compiled once per device and key. Rejects with the compiler's message. */
export function pipelineOf(
  device: GPUDevice,
  family: KernelFamily,
  entryPoint: string,
  constants: Record<string, number>,
  defines: Defines = {},
  arena?: ArenaView,
): Promise<GPUComputePipeline> {
  const cache = cacheOf(device);
  const key = pipelineKey(family, entryPoint, constants, defines, arena);
  let p = cache.pipelines.get(key);
  if (p === undefined) {
    p = device
      .createComputePipelineAsync({
        label: `lasagne ${key}`,
        layout: layoutOf(device, layoutKindOf(family)).pipeline,
        compute: { module: moduleOf(device, family, defines, arena), entryPoint, constants },
      })
      .catch((err: unknown) => {
        cache.pipelines.delete(key);
        throw new Error(`WebGPU could not create the pipeline ${key}: ${err instanceof Error ? err.message : String(err)}`);
      });
    cache.pipelines.set(key, p);
  }
  return p;
}

/**
 * The compute pipeline of a backward kernel file (src/backend/webgpu/backward.ts backwardSource,
 * binding shape 'backward'), compiled once per device, file, entry point and constants.
 */
export function backwardPipelineOf(device: GPUDevice, file: BackwardFile, entryPoint: string, constants: Record<string, number>): Promise<GPUComputePipeline> {
  const cache = cacheOf(device);
  const key = `backward:${file}.${entryPoint}(${definesKey(constants)})`;
  let p = cache.pipelines.get(key);
  if (p === undefined) {
    let m = cache.modules.get(`backward:${file}`);
    if (m === undefined) {
      m = device.createShaderModule({ label: `lasagne backward ${file}`, code: backwardSource(file) });
      cache.modules.set(`backward:${file}`, m);
    }
    p = device
      .createComputePipelineAsync({ label: `lasagne ${key}`, layout: layoutOf(device, 'backward').pipeline, compute: { module: m, entryPoint, constants } })
      .catch((err: unknown) => {
        cache.pipelines.delete(key);
        throw new Error(`WebGPU could not create the pipeline ${key}: ${err instanceof Error ? err.message : String(err)}`);
      });
    cache.pipelines.set(key, p);
  }
  return p;
}
