// build/planner.wasm: the exported ABI. Names are snake_case; signatures are declared again in
// src/plan/planner_abi.ts and checked against this module by scripts/check_glue.mjs at build time.
import { resolvePad } from './padding';
import {
  convOutputLength, convInputLength, convGridLength, poolOutputLength,
  checkConvEarly, checkConv, checkConvRun, checkPool, checkPoolRun,
} from './shape';
import { partialSumEffective, partialSumScratchBytes } from './partial_sum';
import { arenaCapacity, arenaReset, arenaDefine, arenaPlan, arenaOffset } from './arena';

export function resolve_pad(k: i32, mode: i32, pad: i32): i32 { return resolvePad(k, mode, pad); }
export function conv_output_length(input: i32, k: i32, s: i32, mode: i32, pad: i32): i32 { return convOutputLength(input, k, s, mode, pad); }
export function conv_input_length(output: i32, k: i32, s: i32, mode: i32, pad: i32): i32 { return convInputLength(output, k, s, mode, pad); }
export function conv_grid_length(input: i32, k: i32, s: i32, pad: i32): i32 { return convGridLength(input, k, s, pad); }
export function pool_output_length(input: i32, p: i32, s: i32, pad: i32, ignoreBorder: i32): i32 { return poolOutputLength(input, p, s, pad, ignoreBorder); }
export function check_conv_early(kr: i32, kc: i32, sr: i32, sc: i32, mode: i32): i32 { return checkConvEarly(kr, kc, sr, sc, mode); }
export function check_conv(f: i32, c: i32, kr: i32, kc: i32, sr: i32, sc: i32, mode: i32, pr: i32, pc: i32): i32 { return checkConv(f, c, kr, kc, sr, sc, mode, pr, pc); }
export function check_conv_run(k: i32, s: i32): i32 { return checkConvRun(k, s); }
export function check_pool(padR: i32, padC: i32, pr: i32, pc: i32, sr: i32, sc: i32, ignoreBorder: i32): i32 { return checkPool(padR, padC, pr, pc, sr, sc, ignoreBorder); }
export function check_pool_run(p: i32, rows: i32, cols: i32): i32 { return checkPoolRun(p, rows, cols); }
export function partial_sum_effective(rowsCC: i32, colsCC: i32, partialSum: i32): i32 { return partialSumEffective(rowsCC, colsCC, partialSum); }
export function partial_sum_scratch_bytes(rowsCC: i32, colsCC: i32, partialSum: i32, c: i32, k: i32, f: i32): f64 { return partialSumScratchBytes(rowsCC, colsCC, partialSum, c, k, f); }
export function arena_capacity(): i32 { return arenaCapacity(); }
export function arena_reset(n: i32): i32 { return arenaReset(n); }
export function arena_define(i: i32, bytes: f64, first: i32, last: i32): i32 { return arenaDefine(i, bytes, first, last); }
export function arena_plan(alignment: i32): f64 { return arenaPlan(alignment); }
export function arena_offset(i: i32): f64 { return arenaOffset(i); }
