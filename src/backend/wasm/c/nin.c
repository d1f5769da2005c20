/*
 * nin: Lasagne NINLayer_c01b forward, a GEMM over the leading axis fused with bias and nonlinearity
 * (src/ops/steps.ts NinStep). Input viewed as (C, N) with N = positions * B (batch innermost),
 * weight W (U, C) as stored, output (U, N):
 *
 *   out[u, n] = act(bias + sum_c w[u, c] * in[c, n]);   tied b[u], untied b[u, floor(n / B)]
 *
 * Method: tiles of 4 units x 8 n (two f32x4 along n, which is contiguous in both input and output):
 * per c, two input loads, four splat loads of weights, eight multiply-adds (MADD, common.h). n-tiles outer, units inner, so
 * one tile's C input rows stay in L1 while every unit passes over them. A last tile of 4 n, then
 * scalars, finish N; a last block of fewer than 4 units repeats its last unit and stores only the
 * real ones.
 *
 * Summation order (float32): acc = 0; for c = 0..C-1 acc = MADD(acc, w, in) (common.h; the scalar tail
 * madd1, the same instruction); + bias; act.
 */
#include "common.h"

INLINE v128_t bias_lanes(const float* bias, int mode, int u, int P, int B, int n) {
  if (mode == BIAS_TIED) return wasm_f32x4_splat(bias[u]);
  const float* bu = bias + (size_t)u * P;
  return wasm_f32x4_make(bu[(n + 0) / B], bu[(n + 1) / B], bu[(n + 2) / B], bu[(n + 3) / B]);
}

INLINE void nin_tile(const float* in, const float* w, const float* bias, float* out, int C, int U, int P, int B, size_t N,
                     int u0, int n, int bias_mode, int act, float p0, float p1, const int NV) {
  const int nu = U - u0 < 4 ? U - u0 : 4;
  const float* w0 = w + (size_t)u0 * C;
  const float* w1 = w + (size_t)(u0 + (nu > 1 ? 1 : 0)) * C;
  const float* w2 = w + (size_t)(u0 + (nu > 2 ? 2 : nu - 1)) * C;
  const float* w3 = w + (size_t)(u0 + (nu > 3 ? 3 : nu - 1)) * C;
  v128_t a00 = wasm_f32x4_splat(0.0f), a10 = a00, a20 = a00, a30 = a00;
  v128_t a01 = a00, a11 = a00, a21 = a00, a31 = a00;
  const float* x = in + n;
  for (int c = 0; c < C; c++, x += N) {
    const v128_t x0 = wasm_v128_load(x);
    const v128_t x1 = NV > 1 ? wasm_v128_load(x + 4) : x0;
    const v128_t v0 = wasm_v128_load32_splat(w0 + c);
    const v128_t v1 = wasm_v128_load32_splat(w1 + c);
    const v128_t v2 = wasm_v128_load32_splat(w2 + c);
    const v128_t v3 = wasm_v128_load32_splat(w3 + c);
    a00 = MADD(a00, v0, x0);
    a10 = MADD(a10, v1, x0);
    a20 = MADD(a20, v2, x0);
    a30 = MADD(a30, v3, x0);
    if (NV > 1) {
      a01 = MADD(a01, v0, x1);
      a11 = MADD(a11, v1, x1);
      a21 = MADD(a21, v2, x1);
      a31 = MADD(a31, v3, x1);
    }
  }
  v128_t acc[4][2] = {{a00, a01}, {a10, a11}, {a20, a21}, {a30, a31}};
  for (int r = 0; r < nu; r++) {
    const int u = u0 + r;
    for (int h = 0; h < NV; h++) {
      v128_t v = acc[r][h];
      if (bias_mode != BIAS_NONE) v = wasm_f32x4_add(v, bias_lanes(bias, bias_mode, u, P, B, n + 4 * h));
      wasm_v128_store(out + (size_t)u * N + n + 4 * h, act_vec(act, p0, p1, v));
    }
  }
}

EXPORT(nin)
int nin(const float* in, const float* w, const float* bias, float* out, int C, int U, int P, int B, int bias_mode, int act,
        float p0, float p1) {
  if (C < 1 || U < 1 || P < 1 || B < 1) return KERNEL_BAD_ARGS;
  if (bias_mode < BIAS_NONE || bias_mode > BIAS_UNTIED || act < 0 || act >= ACT_COUNT) return KERNEL_BAD_ARGS;
  const size_t N = (size_t)P * B;
  size_t n = 0;
  for (; n + 8 <= N; n += 8)
    for (int u0 = 0; u0 < U; u0 += 4) nin_tile(in, w, bias, out, C, U, P, B, N, u0, (int)n, bias_mode, act, p0, p1, 2);
  if (n + 4 <= N) {
    for (int u0 = 0; u0 < U; u0 += 4) nin_tile(in, w, bias, out, C, U, P, B, N, u0, (int)n, bias_mode, act, p0, p1, 1);
    n += 4;
  }
  for (; n < N; n++)
    for (int u = 0; u < U; u++) {
      const float* wu = w + (size_t)u * C;
      float acc = 0.0f;
      for (int c = 0; c < C; c++) acc = madd1(acc, wu[c], in[(size_t)c * N + n]);
      if (bias_mode == BIAS_TIED) acc += bias[u];
      if (bias_mode == BIAS_UNTIED) acc += bias[(size_t)u * P + n / B];
      out[(size_t)u * N + n] = act_scalar(act, p0, p1, acc);
    }
  return KERNEL_OK;
}
