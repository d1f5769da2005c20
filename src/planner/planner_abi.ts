/**
 * The ABI of build/planner.wasm as the TypeScript glue expects it: every export's name and its
 * WebAssembly parameter and result types. scripts/check_glue.mjs compares this table with the
 * compiled module at build time (through @webassemblyjs/wasm-parser), so a renamed or re-typed
 * export fails the build rather than a user.
 */
import type { FunctionSignature, ModuleAbi, WasmMemory } from '../wasm_abi.js';
export type { FunctionSignature, ModuleAbi, WasmValueType } from '../wasm_abi.js';

export const PLANNER_ABI = {
  functions: {
    resolve_pad: [['i32', 'i32', 'i32'], ['i32']],
    conv_output_length: [['i32', 'i32', 'i32', 'i32', 'i32'], ['i32']],
    conv_input_length: [['i32', 'i32', 'i32', 'i32', 'i32'], ['i32']],
    conv_grid_length: [['i32', 'i32', 'i32', 'i32'], ['i32']],
    pool_output_length: [['i32', 'i32', 'i32', 'i32', 'i32'], ['i32']],
    check_conv_early: [['i32', 'i32', 'i32', 'i32', 'i32'], ['i32']],
    check_conv: [['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'], ['i32']],
    check_conv_run: [['i32', 'i32'], ['i32']],
    check_pool: [['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'], ['i32']],
    check_pool_run: [['i32', 'i32', 'i32'], ['i32']],
    partial_sum_effective: [['i32', 'i32', 'i32'], ['i32']],
    partial_sum_scratch_bytes: [['i32', 'i32', 'i32', 'i32', 'i32', 'i32'], ['f64']],
    arena_capacity: [[], ['i32']],
    arena_reset: [['i32'], ['i32']],
    arena_define: [['i32', 'f64', 'i32', 'i32'], ['i32']],
    arena_plan: [['i32'], ['f64']],
    arena_offset: [['i32'], ['f64']],
  },
  memories: ['memory'],
  imports: [],
} as const satisfies ModuleAbi;

type Numbers<T extends readonly unknown[]> = { -readonly [I in keyof T]: number };
type Fn<S extends FunctionSignature> = (...args: Numbers<S[0]>) => number;

/** The planner's exports, typed from PLANNER_ABI. */
export type PlannerExports = { [K in keyof typeof PLANNER_ABI.functions]: Fn<(typeof PLANNER_ABI.functions)[K]> } & {
  memory: WasmMemory;
};
