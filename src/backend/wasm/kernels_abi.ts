/**
 * The ABI of build/kernels.wasm (src/backend/wasm/c, built by scripts/build_kernels.mjs) as the glue expects
 * it: every export's name and WebAssembly signature, checked against the compiled module at build
 * time by scripts/check_glue.mjs. Pointers are byte addresses in the module's own memory (i32);
 * kernels return 0, or -1 when a size is impossible (the glue checks sizes before calling).
 */
import type { ModuleAbi } from '../../wasm_abi.js';

export const KERNELS_ABI = {
  functions: {
    /** (bytes, align) -> address of a fresh zeroed block, or 0 when memory cannot grow. */
    kernels_reserve: [['i32', 'i32'], ['i32']],
    /** (in, w_packed, bias, out, scratch, C, H, W, B, F, k, stride, pad, outH, outW, biasMode, act, p0, p1) -> 0 | -1 */
    filter_acts: [
      ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'f32', 'f32'],
      ['i32'],
    ],
    /** (C, H, W, B, k, pad) -> scratch bytes filter_acts needs */
    filter_acts_scratch_bytes: [['i32', 'i32', 'i32', 'i32', 'i32', 'i32'], ['i32']],
    /** (in, out, C, H, W, B, poolSize, stride, outH, outW) -> 0 | -1 */
    max_pool: [['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'], ['i32']],
    /** (in, out, rows, cols) -> 0 | -1: out (cols, rows) = in (rows, cols) transposed */
    transpose: [['i32', 'i32', 'i32', 'i32'], ['i32']],
    /** (in, w, bias, out, C, U, positions, B, biasMode, act, p0, p1) -> 0 | -1 */
    nin: [['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'f32', 'f32'], ['i32']],
  },
  memories: ['memory'],
  imports: [],
} as const satisfies ModuleAbi;

/** The kernels' exports, typed from KERNELS_ABI. */
export interface KernelsExports {
  memory: WebAssembly.Memory;
  kernels_reserve(bytes: number, align: number): number;
  filter_acts(
    input: number, w: number, bias: number, out: number, scratch: number, C: number, H: number, W: number, B: number, F: number,
    k: number, stride: number, pad: number, outH: number, outW: number, biasMode: number, act: number, p0: number, p1: number,
  ): number;
  filter_acts_scratch_bytes(C: number, H: number, W: number, B: number, k: number, pad: number): number;
  max_pool(input: number, out: number, C: number, H: number, W: number, B: number, poolSize: number, stride: number, outH: number, outW: number): number;
  transpose(input: number, out: number, rows: number, cols: number): number;
  nin(input: number, w: number, bias: number, out: number, C: number, U: number, positions: number, B: number, biasMode: number, act: number, p0: number, p1: number): number;
}
