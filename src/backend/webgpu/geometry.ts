/**
 * Launch geometry: from a kernel step (src/ops/steps.ts) to what the GPU runs: the shader family and entry point, the
 * override constants (everything that changes the pipeline, hence its cache key), the uniform words
 * (everything else), the workgroup grid, and the byte range of the arena the step reads and writes.
 * Pure functions: no device, so the geometry is testable anywhere. What is particular to one op is
 * in its file in ops/ (ops/index.ts is the table); here are the types and helpers they share, the
 * GEMM tile selection, and the parameter buffer layouts.
 */
import type { KernelPlan, PlanTensor } from '../backend.js';
import { shapeSize } from '../../ndarray.js';
export type { KernelPlan, PlanTensor };
import { ValueError } from '../../errors.js';
import { activationOf } from '../../ops/codes.js';
import { filterWeightElements, paramElements as stepParamElements, type FilterActsStep, type KernelStep, type NinStep } from '../../ops/steps.js';

import type { KernelFamily } from './ops/index.js';
/** The wgsl/ file a step runs: a key of ops/index.ts FAMILIES. */
export type { KernelFamily };

/** A nin tile: WG_U x WG_N threads, RU groups of 4 units each, K_CHUNK channels per stage. */
export interface NinTile {
  wgU: number;
  ru: number;
  wgN: number;
  kChunk: number;
}

/** Which arena_*.wgsl a GEMM kernel is compiled with. */
export type ArenaView = 'vec4' | 'scalar';

/** Device limits the geometry depends on. */
export interface KernelLimits {
  minStorageBufferOffsetAlignment: number;
  maxStorageBufferBindingSize: number;
  maxComputeWorkgroupStorageSize: number;
  maxComputeWorkgroupsPerDimension: number;
  /** The device runs shaders on the CPU (SwiftShader): short K chunks, which its JIT compiles fast (see kChunkFor). */
  cpu?: boolean;
  /** Fields of every filter_acts tile, forced (benchmark sweeps, tests); see filterActsTile. */
  tile?: Partial<GemmTile>;
  /** Fields of every nin tile, forced (benchmark sweeps, tests); see ops/nin.ts. */
  ninTile?: Partial<NinTile>;
  /**
   * A training plan (src/backend/webgpu/training.ts): every step binds the whole arena buffer of
   * this many bytes (offsets absolute), and filter_acts and nin read their weight and bias from the
   * arena tensors `step.weight` and `step.bias` (override W_ARENA), not from parameter buffers.
   */
  wholeArena?: number;
}

/** How a parameter buffer is filled from its Param: conv weights in kernel layout, NIN weights transposed, or as stored. */
export type ParamLayout =
  | { kind: 'conv'; step: Pick<FilterActsStep, 'weightLayout' | 'flipFilters' | 'channels' | 'filterSize' | 'filters'> }
  | { kind: 'nin'; units: number; channels: number; weightLayout: 'uc' | 'cu' }
  | { kind: 'raw'; elements: number };

export interface Launch {
  family: KernelFamily;
  entryPoint: string;
  /** Override constants; with family, defines and entryPoint, the pipeline cache key. */
  constants: Record<string, number>;
  /** Consts prepended to the family's source (pipelines.ts Defines): one shader module per distinct set. */
  defines?: Record<string, number>;
  /**
   * The GEMM families' view of the arena, prepended to their source: wgsl/arena_vec4.wgsl (rows of
   * whole vec4s, 16-byte aligned) or wgsl/arena_scalar.wgsl (any); part of the module's identity.
   */
  arena?: ArenaView;
  /** The step's Params struct, 4-byte words (u32 except the trailing f32 act parameters). */
  uniform: ArrayBuffer;
  /** dispatchWorkgroups(x, y): the linear workgroup count split so that neither exceeds the per-dimension limit. */
  workgroups: [number, number];
  /** Byte range of the arena bound at binding 0 (offset aligned to minStorageBufferOffsetAlignment). */
  arenaRange: { offset: number; size: number };
  /**
   * Further dispatches of the same family, module (defines, arena view), bind group and uniform,
   * in order after the first (split-K filter_acts: split_sum adds the slices' partial sums, kept in
   * the step's scratch tensor; Winograd filter_acts: input transform, batched GEMM, output transform).
   */
  then?: FollowUp[];
  /** Parameter buffers at bindings 1 (weights) and 2 (bias) for filter_acts and nin. */
  weight?: { param: number; layout: ParamLayout };
  bias?: { param: number; layout: ParamLayout };
}

/** A dispatch after a launch's first one (Launch.then). */
export interface FollowUp {
  entryPoint: string;
  constants: Record<string, number>;
  workgroups: [number, number];
}

/** Invocations per workgroup of the GEMM kernels (WebGPU's guaranteed maxComputeInvocationsPerWorkgroup). */
const GEMM_THREADS = 256;
/** Most vec4s a GEMM thread loads per stage, of weights and of inputs each (the shaders' struct Loads). */
const MAX_LOADS = 4;
/** The largest K_CHUNK on a CPU device. */
const CPU_K_CHUNK = 2;

const ceilDiv = (a: number, b: number): number => Math.floor((a + b - 1) / b);
const floorPow2 = (x: number): number => 2 ** Math.floor(Math.log2(x));

/** The activation code and parameters of a GEMM step's fused epilogue. */
export const actOf = (step: FilterActsStep | NinStep) => activationOf(step.nonlinearity, step.layer);

/** Splits a linear workgroup count over x and y. */
export function workgroupGrid(count: number, maxPerDimension: number): [number, number] {
  const x = Math.min(count, maxPerDimension);
  const y = ceilDiv(count, x);
  if (y > maxPerDimension) throw new ValueError(`a step needs ${count} workgroups, more than this device can dispatch`);
  return [x, y];
}

/**
 * The K_CHUNK (rows of K per stage) of nin's tile of (4*wgA) x (4*wgN) outputs on `threads`
 * invocations: the largest of `largest` (16 or 8), ..., 4, 2, 1 whose workgroup memory,
 * 16 * kChunk * (wgA + wgN) bytes, fits the limit and whose stage takes each thread at most
 * MAX_LOADS vec4 loads per operand. A CPU device gets at most CPU_K_CHUNK: where Dawn
 * zero-initialises workgroup memory, SwiftShader's JIT time grows with its size (Node's default
 * device turns that off; browsers do not).
 */
function kChunkFor(wgA: number, wgN: number, limits: KernelLimits, largest: number, threads: number): number {
  const limit = limits.maxComputeWorkgroupStorageSize;
  for (const k of [16, 8, 4, 2, 1].filter((c) => c <= largest)) {
    if (limits.cpu && k > CPU_K_CHUNK) continue;
    if (k * Math.max(wgA, wgN) <= MAX_LOADS * threads && 16 * k * (wgA + wgN) <= limit) return k;
  }
  throw new ValueError(`the GEMM kernels need ${16 * (wgA + wgN)} bytes of workgroup memory, but this device allows ${limit}`);
}

/** The helpers of the GEMM tile selection that the op files (ops/) use too. */
export { GEMM_THREADS, ceilDiv };

/** Tensor `id` of a plan. */
export function tensorOf(plan: KernelPlan, id: number): PlanTensor {
  const t = plan.tensors[id];
  if (t === undefined || t.id !== id) throw new ValueError(`plan has no tensor ${id}`);
  return t;
}

/**
 * The arena range a step binds: from its lower tensor to the end of its upper one, the start aligned
 * down to the device's offset alignment, the size rounded up to 16 bytes (within the arena). Element
 * offsets in the uniform are relative to its start.
 */
export function arenaRange(
  plan: KernelPlan, step: KernelStep, limits: KernelLimits, withScratch = false,
): { offset: number; size: number; inOff: number; outOff: number } {
  const input = tensorOf(plan, step.input);
  const output = tensorOf(plan, step.output);
  if (limits.wholeArena !== undefined) {
    const size = limits.wholeArena;
    if (size > limits.maxStorageBufferBindingSize) {
      throw new ValueError(
        `a training plan binds its whole ${size}-byte arena in every step, more than this device's maxStorageBufferBindingSize ` +
          `(${limits.maxStorageBufferBindingSize}); use a smaller batch`,
      );
    }
    if (input.offset % 4 !== 0 || output.offset % 4 !== 0) throw new ValueError(`layer ${step.layer}: tensor offsets must be multiples of 4 bytes`);
    return { offset: 0, size, inOff: input.offset / 4, outOff: output.offset / 4 };
  }
  const bound = [input, output];
  if (withScratch && step.scratch !== undefined) bound.push(tensorOf(plan, step.scratch));
  const align = limits.minStorageBufferOffsetAlignment;
  const lo = Math.floor(Math.min(...bound.map((t) => t.offset)) / align) * align;
  const hi = Math.max(...bound.map((t) => t.offset + 4 * shapeSize(t.shape)));
  // the arena buffer is the plan's bytes rounded up to 16, so the rounded range stays inside it
  const size = Math.ceil((hi - lo) / 16) * 16;
  if (size > limits.maxStorageBufferBindingSize) {
    throw new ValueError(
      `layer ${step.layer} reads and writes ${size} bytes of the arena in one step, more than this device's ` +
        `maxStorageBufferBindingSize (${limits.maxStorageBufferBindingSize}); use a smaller batch`,
    );
  }
  if (input.offset % 4 !== 0 || output.offset % 4 !== 0) throw new ValueError(`layer ${step.layer}: tensor offsets must be multiples of 4 bytes`);
  return { offset: lo, size, inOff: (input.offset - lo) / 4, outOff: (output.offset - lo) / 4 };
}

/** The range of a step bound with its scratch tensor (arenaRange with the scratch), or null where it exceeds one binding. */
export function arenaRangeOrNull(plan: KernelPlan, step: KernelStep, limits: KernelLimits): { offset: number; size: number } | null {
  try {
    return arenaRange(plan, step, limits, true);
  } catch {
    return null;
  }
}

/**
 * WebGPU's guaranteed limits, as a GPU (not a CPU device) would choose its tiles: the scratch a
 * compiled plan holds, the same on every device (a device that takes fewer slices leaves part unused).
 */
export const DEFAULT_GPU_LIMITS: KernelLimits = Object.freeze({
  minStorageBufferOffsetAlignment: 256,
  maxStorageBufferBindingSize: 2 ** 27,
  maxComputeWorkgroupStorageSize: 16384,
  maxComputeWorkgroupsPerDimension: 65535,
});

/** The arena buffer's size: the plan's bytes rounded up to 16 (vec4 views), at least 16. */
export function arenaBufferBytes(arenaBytes: number): number {
  return Math.max(16, Math.ceil(arenaBytes / 16) * 16);
}

/** A uniform of n 4-byte words, viewed as u32 and f32. */
export function words(n: number): { u32: Uint32Array; f32: Float32Array; buffer: ArrayBuffer } {
  const buffer = new ArrayBuffer(4 * n);
  return { u32: new Uint32Array(buffer), f32: new Float32Array(buffer), buffer };
}

/**
 * The tile of filter_acts (wgsl/filter_acts.wgsl): a workgroup of wgN x wgF threads, each computing
 * rf groups of 4 filters by 4 columns; kChunk rows of K staged per step.
 */
export interface GemmTile {
  wgN: number;
  wgF: number;
  rf: number;
  /** Groups of 4 columns per thread, 1 or 2. */
  rn: number;
  kChunk: number;
  /** Slices of K summed by separate workgroups into scratch, then added by split_sum (1: no split). */
  split: number;
  /**
   * Forced only (limits.tile; benchmarks, tests): true runs a 3x3 stride-1 layer as Winograd wherever
   * it can (winogradFor), whatever the size rule says, in the variant the rule picks
   * (WINOGRAD_F4_MIN_OUT); 2 or 4 as that variant, F(2x2, 3x3) or F(4x4, 3x3); false never.
   */
  winograd?: boolean | WinogradM;
}

/**
 * WG_F of filter_acts with one group of 4 filters per thread: at most 16 and F / 4 (rounded down to a
 * power of 2), and 8 rather than 16 where tiles of 32 filters pad F less than tiles of 64.
 */
export function filterTileWidth(F: number): number {
  const wgF = Math.min(16, floorPow2(F / 4));
  return wgF === 16 && ceilDiv(F, 32) * 32 < ceilDiv(F, 64) * 64 ? 8 : wgF;
}

/** Two filter groups per thread need at least this many tiles (on an H100 L4, 200 tiles, gains 17%). */
const RF2_MIN_TILES = 128;

/**
 * The register tile: two groups of 4 filters per thread (a thread reads two weight vec4s, broadcast
 * within a warp, per input vec4: half the input reads per FMA) where the filters fill whole tiles of
 * 128 (F % 128 == 0, WG_F 16) or one tile of F = 8 * WG_F with WG_F 12..16 (F = 96: WG_F 12), and
 * there are at least RF2_MIN_TILES tiles; else one group, WG_F = filterTileWidth(F).
 * On an H100 (kernel ms, batch 128): L1 5.28 -> 5.04, L2 18.55 -> 16.25, L3 7.12 -> 6.21,
 * L4 0.99 -> 0.85, L5 1.45 -> 1.38, A1 1.12 -> 1.09; with 32 filters per tile (WG_F 4) C1-C3 were
 * 40-80% slower.
 */
export function filterRegisterTile(F: number, N: number): { wgF: number; rf: number; rn: number } {
  let wide = 0;
  if (F % 128 === 0) wide = 16;
  else if (F % 8 === 0 && F / 8 >= 12 && F / 8 <= 16) wide = F / 8;
  if (wide > 0) {
    const wgN = floorPow2(GEMM_THREADS / wide);
    const fTiles = ceilDiv(F, 8 * wide);
    // fewer than 256 threads: each also takes a second group of columns (8 x 8 per thread)
    if (wide < 16 && fTiles * ceilDiv(N, 8 * wgN) >= RF2_MIN_TILES) return { wgF: wide, rf: 2, rn: 2 };
    if (fTiles * ceilDiv(N, 4 * wgN) >= RF2_MIN_TILES) return { wgF: wide, rf: 2, rn: 1 };
  }
  return { wgF: filterTileWidth(F), rf: 1, rn: 1 };
}

/** K rows a stage holds when a layer has few tiles of one filter group and a long K (on an H100, C2 with 256 tiles: 0.078 -> 0.073 ms). */
const LONG_K_CHUNK = 32;

/** Workgroup memory of a filter_acts tile, bytes (the col_info records: one per vec4 of columns, or per column on the scalar path). */
export function gemmTileBytes(t: GemmTile, vec4: boolean): number {
  return 16 * (t.kChunk * (t.rf * t.wgF + t.rn * t.wgN) + (vec4 ? 1 : 4) * t.rn * t.wgN);
}

/** Why a tile cannot run on a device with these limits, or null. */
export function gemmTileProblem(t: GemmTile, vec4: boolean, limits: KernelLimits): string | null {
  const ints = [t.wgN, t.wgF, t.rf, t.rn, t.kChunk, t.split];
  if (!ints.every((v) => Number.isInteger(v) && v >= 1)) return `tile fields must be positive integers: ${JSON.stringify(t)}`;
  const threads = t.wgN * t.wgF;
  if (threads > GEMM_THREADS) return `a workgroup of ${t.wgN} x ${t.wgF} exceeds ${GEMM_THREADS} invocations`;
  if (t.rf > 2 || t.rn > 2) return `rf and rn must be 1 or 2: ${JSON.stringify(t)}`;
  if (t.kChunk * t.rf * t.wgF > MAX_LOADS * threads || t.kChunk * t.rn * t.wgN > MAX_LOADS * threads) {
    return `a stage of ${t.kChunk} rows needs more than ${MAX_LOADS} loads per thread: ${JSON.stringify(t)}`;
  }
  const bytes = gemmTileBytes(t, vec4);
  if (bytes > limits.maxComputeWorkgroupStorageSize) return `the tile needs ${bytes} bytes of workgroup memory, the device allows ${limits.maxComputeWorkgroupStorageSize}`;
  return null;
}

/** Split K when a layer has fewer tiles than this and K is long: up to SPLIT_TARGET workgroups in all. */
const SPLIT_BELOW_TILES = 256;
const SPLIT_TARGET = 512;
const SPLIT_MAX = 4;
/** Rows of K a slice keeps at least (12 stages of 16). */
const SPLIT_MIN_ROWS = 192;

/**
 * The filter_acts tile for F filters, K = C*k*k rows and N = OH*OW*B columns: the register tile of
 * filterRegisterTile, wgN = 256 / wgF (a power of 2), and the largest kChunk of 16, 8, 4, 2, 1 that
 * fits the device's workgroup memory (at most WIDE_K_CHUNK with RF 2 and RN 1; at most 2 on a CPU
 * device). Layers with few tiles and a long
 * K either split K over up to 4 slices (SPLIT_BELOW_TILES; on an H100 L4 0.866 -> 0.789 ms and C3
 * 0.049 -> 0.045 ms; C2, L3 and L5 gained nothing), or, with more tiles, take 32 rows per stage
 * (C2 0.093 -> 0.087 ms). limits.tile, where given, overrides fields (benchmark sweeps, tests).
 */
export function filterActsTile(F: number, K: number, N: number, vec4: boolean, limits: KernelLimits): GemmTile {
  const { wgF, rf, rn } = filterRegisterTile(F, N);
  const forced = limits.tile ?? {};
  const base = { wgN: floorPow2(GEMM_THREADS / (forced.wgF ?? wgF)), wgF, rf, rn, split: 1, ...forced };
  const tiles = ceilDiv(F, 4 * base.rf * base.wgF) * ceilDiv(N, 4 * base.rn * base.wgN);
  let split = 1;
  if (!limits.cpu && tiles < SPLIT_BELOW_TILES) split = Math.max(1, Math.min(SPLIT_MAX, Math.ceil(SPLIT_TARGET / tiles), Math.floor(K / SPLIT_MIN_ROWS)));
  const shape = { ...base, split: forced.split ?? split };
  // (WIDE_K_CHUNK: stages of at most 8 rows for two filter groups and one column group per thread)
  let chunks = shape.rf === 2 && shape.rn === 1 ? [WIDE_K_CHUNK, 4, 2, 1] : [16, 8, 4, 2, 1];
  // long stages for one filter group per thread and few tiles (fewer than 512) that K does not split
  if (shape.split === 1 && shape.rf === 1 && tiles < 2 * SPLIT_BELOW_TILES && K >= 16 * LONG_K_CHUNK) chunks = [LONG_K_CHUNK, ...chunks];
  if (limits.cpu) chunks = chunks.filter((k) => k <= CPU_K_CHUNK);
  if (forced.kChunk !== undefined) chunks = [forced.kChunk];
  let problem = 'no tile fits';
  for (const kChunk of chunks) {
    const t = { ...shape, kChunk };
    const p = gemmTileProblem(t, vec4, limits);
    if (p === null) return t;
    problem = p;
  }
  throw new ValueError(`filter_acts: ${problem}`);
}

/**
 * In a training plan (limits.wholeArena), the element offsets of a filter_acts or nin step's weight
 * and bias tensors (the bias 0 without one), after checking their sizes; else null.
 */
export function arenaWeights(plan: KernelPlan, step: FilterActsStep | NinStep, limits: KernelLimits): { wOff: number; bOff: number } | null {
  if (limits.wholeArena === undefined) return null;
  const need = stepParamElements(step);
  const w = tensorOf(plan, step.weight);
  if (shapeSize(w.shape) !== need.weight) throw new ValueError(`layer ${step.layer}: the weight tensor ${step.weight} has ${shapeSize(w.shape)} values, the step needs ${need.weight}`);
  let bOff = 0;
  if (step.biasMode !== 'none') {
    const b = tensorOf(plan, step.bias);
    if (shapeSize(b.shape) !== need.bias) throw new ValueError(`layer ${step.layer}: the bias tensor ${step.bias} has ${shapeSize(b.shape)} values, the step needs ${need.bias}`);
    bOff = b.offset / 4;
  }
  return { wOff: w.offset / 4, bOff };
}

/**
 * WG_U and RU of nin for U units: WG_U the smallest power of 2 >= ceil(U / 4), at most 8; below 8,
 * RU 1. At WG_U 8 (threads of 4*RU units, tiles of 32*RU), RU in 1..5 minimises the padded units
 * times (1 + 1/RU), the workgroup-memory reads per FMA (U = 160: RU 5, one tile, no padding).
 */
export function ninTileShape(U: number): { wgU: number; ru: number } {
  const wgU = Math.min(8, 2 ** Math.ceil(Math.log2(Math.max(1, ceilDiv(U, 4)))));
  if (wgU < 8) return { wgU, ru: 1 };
  let best = { ru: 1, cost: Infinity };
  for (let ru = 1; ru <= 5; ru++) {
    const cost = ceilDiv(U, 32 * ru) * 32 * ru * (1 + 1 / ru);
    if (cost <= best.cost) best = { ru, cost };
  }
  return { wgU, ru: best.ru };
}

/**
 * Largest K_CHUNK of a tile whose threads each take more than one group of 4 filters or units
 * (filter_acts RF 2 with RN 1, nin RU > 1). On the H200 (kernel ms, batch 128, K_CHUNK 16 -> 8):
 * N1 (RU 5) 0.315 -> 0.271; L2 14.81 -> 14.57, L3 5.74 -> 5.59, L4 0.714 -> 0.694, L5 1.261 ->
 * 1.249 (RF 2); but L1 4.02 -> 4.48 and A1 0.878 -> 1.028 (RF 2 with RN 2) and C1 0.036 -> 0.036,
 * C2 0.074 -> 0.093 (RF 1) keep 16 (and 32 for C2's long K).
 */
const WIDE_K_CHUNK = 8;

/**
 * The nin tile for U units: ninTileShape, WG_N = 256 / WG_U, and kChunkFor's K_CHUNK (at most
 * WIDE_K_CHUNK with RU > 1); fields of
 * limits.ninTile, where given, override (benchmark sweeps, tests) and are checked like the defaults.
 */
export function ninTile(U: number, limits: KernelLimits): NinTile {
  const forced = limits.ninTile ?? {};
  const shape = ninTileShape(U);
  const wgU = forced.wgU ?? shape.wgU;
  const ru = forced.ru ?? shape.ru;
  const wgN = forced.wgN ?? GEMM_THREADS / wgU;
  const t = { wgU, ru, wgN, kChunk: forced.kChunk ?? kChunkFor(ru * wgU, wgN, limits, ru > 1 ? WIDE_K_CHUNK : 16, wgU * wgN) };
  const ints = [t.wgU, t.ru, t.wgN, t.kChunk];
  let problem: string | null = null;
  if (!ints.every((v) => Number.isInteger(v) && v >= 1)) problem = 'fields must be positive integers';
  else if (t.wgU * t.wgN > GEMM_THREADS) problem = `a workgroup of ${t.wgN} x ${t.wgU} exceeds ${GEMM_THREADS} invocations`;
  else if (t.ru > 5) problem = 'ru must be 1..5';
  else if (t.kChunk * Math.max(t.ru * t.wgU, t.wgN) > MAX_LOADS * t.wgU * t.wgN) problem = `a stage of ${t.kChunk} channels needs more than ${MAX_LOADS} loads per thread`;
  else if (16 * t.kChunk * (t.ru * t.wgU + t.wgN) > limits.maxComputeWorkgroupStorageSize) problem = `the tile needs more than ${limits.maxComputeWorkgroupStorageSize} bytes of workgroup memory`;
  if (problem !== null) throw new ValueError(`nin: ${problem}: ${JSON.stringify(t)}`);
  return t;
}

/** Threads per workgroup of wgsl/elementwise.wgsl and wgsl/update.wgsl (their FLAT). */
export const FLAT_WORKGROUP = 256;
/** Checks that a step's count matches its input and output tensors' sizes. */
export function checkCount(plan: KernelPlan, step: KernelStep, inCount: number, outCount: number): void {
  const i = shapeSize(tensorOf(plan, step.input).shape);
  const o = shapeSize(tensorOf(plan, step.output).shape);
  if (i !== inCount || o !== outCount) {
    throw new ValueError(`layer ${step.layer}: the ${step.op} step reads ${inCount} and writes ${outCount} values, but its tensors hold ${i} and ${o}`);
  }
}

/** NIN weights W (U, C) transposed to (C, U4), U4 = U rounded up to 4, the padding columns 0. */
export function ninKernelWeights(w: Float32Array, units: number, channels: number): Float32Array {
  const u4 = 4 * ceilDiv(units, 4);
  const out = new Float32Array(channels * u4);
  for (let u = 0; u < units; u++) for (let c = 0; c < channels; c++) out[c * u4 + u] = w[u * channels + c];
  return out;
}

/** Float count of a parameter buffer in its layout. */
export function paramElements(layout: ParamLayout): number {
  switch (layout.kind) {
    case 'conv':
      return filterWeightElements(layout.step);
    case 'nin':
      return layout.channels * 4 * ceilDiv(layout.units, 4);
    case 'raw':
      return layout.elements;
  }
}

/** A key naming a parameter buffer: the same parameter in the same layout shares one buffer. */
export function paramKey(param: number, layout: ParamLayout): string {
  switch (layout.kind) {
    case 'conv': {
      const s = layout.step;
      return `${param}:conv:${s.weightLayout}:${s.flipFilters}:${s.channels}:${s.filterSize}:${s.filters}`;
    }
    case 'nin':
      return `${param}:nin:${layout.weightLayout}:${layout.units}:${layout.channels}`;
    case 'raw':
      return `${param}:raw:${layout.elements}`;
  }
}

/** The Winograd path's default rule: at least this many channels and filters (the GEMM then dominates its transforms). */
export const WINOGRAD_MIN_CHANNELS = 64;
export const WINOGRAD_MIN_FILTERS = 64;
/**
 * The variant rule: F(4x4, 3x3) (2.25x fewer GEMM multiplies than F(2x2), 36 instead of 16 GEMMs)
 * where OH and OW are both at least this, so that the 4x4 tiles' padding (4 * ceil(OH / 4) - OH
 * rows computed and dropped) stays small; F(2x2, 3x3) below. To be measured on the H200 (L5: OH 11,
 * W1: OH 28).
 */
export const WINOGRAD_F4_MIN_OUT = 8;
/** Bytes the arena range of a Winograd step keeps for aligning its tensors (input, output, scratch) within it. */
const WINOGRAD_SLACK = 1024;

/** The output tile of a Winograd variant: F(2x2, 3x3) or F(4x4, 3x3). */
export type WinogradM = 2 | 4;

/**
 * The geometry of a filter_acts step run as Winograd F(m x m, 3x3) (wgsl/winograd.wgsl), m = 2 or 4:
 * tiles of m x m outputs (tilesH x tilesW = T of them, from (m + 2)^2 input patches at stride m), the
 * points = (m + 2)^2 transformed GEMMs M[xi] (F, N) = U[xi]^T (F, C) x V[xi] (C, N) with N = T * B,
 * and the scratch they take: U (points, C, F), V (points, C, N) and M (points, F, N) floats, each
 * part a multiple of 4 floats.
 */
export interface WinogradGeometry {
  /** The output tile: 2 (F(2x2, 3x3), 16 points) or 4 (F(4x4, 3x3), 36 points). */
  m: WinogradM;
  /** (m + 2)^2: the transform's points, the batched GEMMs. */
  points: number;
  tilesH: number;
  tilesW: number;
  /** Columns of each GEMM: T * B, batch innermost. */
  n: number;
  /** Float offsets of V and M from the start of the scratch (U at 0). */
  vAt: number;
  mAt: number;
  /** Bytes of scratch: 4 * points * (C * F + C * N + F * N). */
  bytes: number;
}

/** The variant the rule picks for a step: 4 where OH and OW are both at least WINOGRAD_F4_MIN_OUT, else 2. */
export function winogradVariant(step: FilterActsStep): WinogradM {
  return step.outRows >= WINOGRAD_F4_MIN_OUT && step.outCols >= WINOGRAD_F4_MIN_OUT ? 4 : 2;
}

/**
 * Whether a filter_acts step runs as Winograd on a device with these limits, and its geometry:
 * 3x3 filters at stride 1, B and F multiples of 4 (the vec4 path; the launch also needs 16-byte
 * aligned tensors, else it runs the direct kernel), and the input, output and scratch in one storage
 * binding. By default only layers of at least WINOGRAD_MIN_CHANNELS channels and
 * WINOGRAD_MIN_FILTERS filters, and only in inference plans: a training plan (limits.wholeArena)
 * keeps the direct kernel, whose numbers npm start's accuracy and speed were measured with and
 * which takes no scratch beyond split K; limits.tile.winograd, where given, forces it on (true: any
 * such step; 2 or 4: any such step, in that variant) or off (false). The variant is
 * winogradVariant's (F(4x4) from WINOGRAD_F4_MIN_OUT outputs per side) unless forced to 2 or 4; a
 * variant whose scratch exceeds the binding runs direct (the other is not tried).
 */
export function winogradFor(step: FilterActsStep, limits: KernelLimits): WinogradGeometry | null {
  const { channels: C, filters: F, batch: B, filterSize: k, stride: s } = step;
  const forced = limits.tile?.winograd;
  if (forced !== undefined && forced !== true && forced !== false && forced !== 2 && forced !== 4) {
    throw new ValueError(`tile.winograd must be true, false, 2 or 4, not ${JSON.stringify(forced)}`);
  }
  if (forced === false || k !== 3 || s !== 1 || B % 4 !== 0 || F % 4 !== 0) return null;
  if (forced === undefined && (C < WINOGRAD_MIN_CHANNELS || F < WINOGRAD_MIN_FILTERS || limits.wholeArena !== undefined)) return null;
  const m: WinogradM = forced === 2 || forced === 4 ? forced : winogradVariant(step);
  const points = (m + 2) * (m + 2);
  const tilesH = ceilDiv(step.outRows, m);
  const tilesW = ceilDiv(step.outCols, m);
  const n = tilesH * tilesW * B;
  const vAt = points * C * F;
  const mAt = vAt + points * C * n;
  const bytes = 4 * (mAt + points * F * n);
  const inOut = 4 * B * (C * step.rows * step.cols + F * step.outRows * step.outCols);
  if (inOut + bytes + WINOGRAD_SLACK > limits.maxStorageBufferBindingSize) return null;
  return { m, points, tilesH, tilesW, n, vAt, mAt, bytes };
}
