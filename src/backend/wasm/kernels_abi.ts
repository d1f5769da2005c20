/**
 * The ABI of build/kernels.wasm (src/backend/wasm/c, built by scripts/build_kernels.mjs) as the glue expects
 * it: every export's name and WebAssembly signature, checked against the compiled module at build
 * time by scripts/check_glue.mjs. Pointers are byte addresses in the module's own memory (i32);
 * kernels return 0, or -1 when a size is impossible (the glue checks sizes before calling).
 */
import type { ModuleAbi, WasmMemory } from '../../wasm_abi.js';

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
    /** (y, dy, dz, db, F, positions, B, biasMode, act, p0, p1) -> 0 | -1: dz = dy act'(y), db its bias gradient */
    bias_act_grad: [['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'f32', 'f32'], ['i32']],
    /** (dz, w, dx, scratch, C, H, W, B, F, k, stride, pad, outH, outW) -> 0 | -1: the conv input gradient */
    img_acts: [['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'], ['i32']],
    /** (F, outH, outW, B, k) -> scratch bytes img_acts needs */
    img_acts_scratch_bytes: [['i32', 'i32', 'i32', 'i32', 'i32'], ['i32']],
    /** (x, dz, dw, partials, C, H, W, B, F, k, stride, pad, outH, outW, partialSum) -> 0 | -1: the conv weight gradient */
    weight_acts: [['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'], ['i32']],
    /** (dwKernel, out, C, k, F, layout 0 fckk | 1 ckkf, flip 0 | 1) -> 0 | -1: dW back to the parameter's layout */
    weight_grad_layout: [['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'], ['i32']],
    /** (x, y, dy, dx, C, H, W, B, poolSize, stride, outH, outW) -> 0 | -1: the max-pool gradient */
    max_pool_grad: [['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'], ['i32']],
    /** (dz, w, dx, C, U, N) -> 0 | -1: NIN input gradient */
    nin_grad_input: [['i32', 'i32', 'i32', 'i32', 'i32', 'i32'], ['i32']],
    /** (x, dz, dw, C, U, N) -> 0 | -1: NIN weight gradient */
    nin_grad_weight: [['i32', 'i32', 'i32', 'i32', 'i32', 'i32'], ['i32']],
    /** (in, out, n) -> 0 | -1: an exact copy (in == out allowed) */
    copy_floats: [['i32', 'i32', 'i32'], ['i32']],
    /** (in, out, n, act, p0, p1) -> 0 | -1: out = act(in) elementwise (in == out allowed) */
    activation: [['i32', 'i32', 'i32', 'i32', 'f32', 'f32'], ['i32']],
    /** (in, out, U, B) -> 0 | -1: softmax over U of (U, B) */
    softmax: [['i32', 'i32', 'i32', 'i32'], ['i32']],
    /** (p, g, dz, U, B) -> 0 | -1: the softmax's gradient (dz may be g) */
    softmax_grad: [['i32', 'i32', 'i32', 'i32', 'i32'], ['i32']],
    /** (in, out, rows, cols, rowStride, col0, seed, counter, threshold, scale) -> 0 | -1: inverted dropout, element (r, j) at flat index r rowStride + col0 + j */
    dropout: [['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'f32'], ['i32']],
    /** (in, out, C, P, B) -> 0 | -1: mean over P of (C, P, B) */
    global_pool: [['i32', 'i32', 'i32', 'i32', 'i32'], ['i32']],
    /** (dy, dx, C, P, B) -> 0 | -1: dx[c, p, b] = dy[c, b] / P */
    global_pool_grad: [['i32', 'i32', 'i32', 'i32', 'i32'], ['i32']],
    /** (w, out, C, k, F, layout 0 fckk | 1 ckkf, flip 0 | 1) -> 0 | -1: a conv weight's kernel form (C, k, k, F) */
    weight_form: [['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'], ['i32']],
    /** (w, packed, K, F) -> 0 | -1: kernel-form (K, F) filters into filter_acts' packed form */
    pack_filters: [['i32', 'i32', 'i32', 'i32'], ['i32']],
    /** (pred, targets, grad, loss, U, B, kind, fused, indexTargets, w) -> 0 | -1 | -2 (bad index targets): loss = w sum l */
    loss: [['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'f64'], ['i32']],
    /** (w, grad, loss, n, l1, l2) -> 0 | -1: loss += penalty, grad += its gradient */
    penalty: [['i32', 'i32', 'i32', 'i32', 'f32', 'f32'], ['i32']],
    /** (p, g, s0, s1, n, rule, lr, momentum, rho, beta1, beta2, eps, 1 - rho, 1 - beta1, 1 - beta2) -> 0 | -1: one update step */
    update_param: [['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'f32', 'f32', 'f32', 'f32', 'f32', 'f32', 'f32', 'f32', 'f32'], ['i32']],
  },
  memories: ['memory'],
  imports: [],
} as const satisfies ModuleAbi;

/** The kernels' exports, typed from KERNELS_ABI. */
export interface KernelsExports {
  memory: WasmMemory;
  kernels_reserve(bytes: number, align: number): number;
  filter_acts(
    input: number, w: number, bias: number, out: number, scratch: number, C: number, H: number, W: number, B: number, F: number,
    k: number, stride: number, pad: number, outH: number, outW: number, biasMode: number, act: number, p0: number, p1: number,
  ): number;
  filter_acts_scratch_bytes(C: number, H: number, W: number, B: number, k: number, pad: number): number;
  max_pool(input: number, out: number, C: number, H: number, W: number, B: number, poolSize: number, stride: number, outH: number, outW: number): number;
  transpose(input: number, out: number, rows: number, cols: number): number;
  nin(input: number, w: number, bias: number, out: number, C: number, U: number, positions: number, B: number, biasMode: number, act: number, p0: number, p1: number): number;
  bias_act_grad(y: number, dy: number, dz: number, db: number, F: number, positions: number, B: number, biasMode: number, act: number, p0: number, p1: number): number;
  img_acts(dz: number, w: number, dx: number, scratch: number, C: number, H: number, W: number, B: number, F: number, k: number, stride: number, pad: number, outH: number, outW: number): number;
  img_acts_scratch_bytes(F: number, outH: number, outW: number, B: number, k: number): number;
  weight_acts(
    x: number, dz: number, dw: number, partials: number, C: number, H: number, W: number, B: number, F: number, k: number, stride: number, pad: number,
    outH: number, outW: number, partialSum: number,
  ): number;
  weight_grad_layout(dwKernel: number, out: number, C: number, k: number, F: number, layout: number, flip: number): number;
  max_pool_grad(x: number, y: number, dy: number, dx: number, C: number, H: number, W: number, B: number, poolSize: number, stride: number, outH: number, outW: number): number;
  nin_grad_input(dz: number, w: number, dx: number, C: number, U: number, N: number): number;
  nin_grad_weight(x: number, dz: number, dw: number, C: number, U: number, N: number): number;
  copy_floats(input: number, out: number, n: number): number;
  activation(input: number, out: number, n: number, act: number, p0: number, p1: number): number;
  softmax(input: number, out: number, U: number, B: number): number;
  softmax_grad(p: number, g: number, dz: number, U: number, B: number): number;
  dropout(
    input: number, out: number, rows: number, cols: number, rowStride: number, col0: number, seed: number, counter: number, threshold: number, scale: number,
  ): number;
  global_pool(input: number, out: number, C: number, P: number, B: number): number;
  global_pool_grad(dy: number, dx: number, C: number, P: number, B: number): number;
  weight_form(w: number, out: number, C: number, k: number, F: number, layout: number, flip: number): number;
  pack_filters(w: number, packed: number, K: number, F: number): number;
  loss(pred: number, targets: number, grad: number, loss: number, U: number, B: number, kind: number, fused: number, indexTargets: number, w: number): number;
  penalty(w: number, grad: number, loss: number, n: number, l1: number, l2: number): number;
  update_param(
    p: number, g: number, s0: number, s1: number, n: number, rule: number, lr: number, momentum: number, rho: number, beta1: number, beta2: number, eps: number,
    oneMinusRho: number, oneMinusBeta1: number, oneMinusBeta2: number,
  ): number;
}
