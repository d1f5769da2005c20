/*
 * The gradients of NINLayer_c01b's GEMM (src/ops/backward.ts NinGradInputStep, NinGradWeightStep).
 * x viewed as (C, N), W (U, C) as stored, dz (U, N) (the output gradient after the nonlinearity's
 * derivative), N = positions * B:
 *
 *   nin_grad_input:  dx[c, n] = sum_u W[u, c] dz[u, n]
 *   nin_grad_weight: dW[u, c] = sum_n dz[u, n] x[c, n]
 *
 * Method: nin_grad_input keeps 4 channels x 8 n (two f32x4 along n, contiguous in dz and dx) in
 * registers and loops u ascending (acc = MADD(acc, w, dz), common.h); scalars (madd1) finish N.
 * nin_grad_weight computes, for each u, the dot products with 4 channels at a time sharing the dz
 * loads, f32x4 along n (four lanes, then ((l0 + l1) + (l2 + l3)), then the tail).
 */
#include "backward.h"

EXPORT(nin_grad_input)
int nin_grad_input(const float* dz, const float* w, float* dx, int C, int U, int N) {
  if (C < 1 || U < 1 || N < 1) return KERNEL_BAD_ARGS;
  const size_t n8 = (size_t)N & ~(size_t)7;
  for (int c0 = 0; c0 < C; c0 += 4) {
    const int nc = C - c0 < 4 ? C - c0 : 4;
    size_t n = 0;
    for (; n < n8; n += 8) {
      v128_t acc[4][2];
      for (int r = 0; r < 4; r++) acc[r][0] = acc[r][1] = wasm_f32x4_splat(0.0f);
      for (int u = 0; u < U; u++) {
        const float* d = dz + (size_t)u * N + n;
        const v128_t d0 = wasm_v128_load(d), d1 = wasm_v128_load(d + 4);
        const float* wu = w + (size_t)u * C + c0;
        for (int r = 0; r < nc; r++) {
          const v128_t wv = wasm_f32x4_splat(wu[r]);
          acc[r][0] = MADD(acc[r][0], wv, d0);
          acc[r][1] = MADD(acc[r][1], wv, d1);
        }
      }
      for (int r = 0; r < nc; r++) {
        wasm_v128_store(dx + (size_t)(c0 + r) * N + n, acc[r][0]);
        wasm_v128_store(dx + (size_t)(c0 + r) * N + n + 4, acc[r][1]);
      }
    }
    for (; n < (size_t)N; n++)
      for (int r = 0; r < nc; r++) {
        float acc = 0.0f;
        for (int u = 0; u < U; u++) acc = madd1(acc, w[(size_t)u * C + c0 + r], dz[(size_t)u * N + n]);
        dx[(size_t)(c0 + r) * N + n] = acc;
      }
  }
  return KERNEL_OK;
}

EXPORT(nin_grad_weight)
int nin_grad_weight(const float* x, const float* dz, float* dw, int C, int U, int N) {
  if (C < 1 || U < 1 || N < 1) return KERNEL_BAD_ARGS;
  const int C4 = C & ~3;
  for (int u = 0; u < U; u++) {
    const float* d = dz + (size_t)u * N;
    float* out = dw + (size_t)u * C;
    int c = 0;
    for (; c < C4; c += 4) {
      const float *x0 = x + (size_t)c * N, *x1 = x0 + N, *x2 = x1 + N, *x3 = x2 + N;
      v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0, a2 = a0, a3 = a0;
      int n = 0;
      for (; n + 4 <= N; n += 4) {
        const v128_t dv = wasm_v128_load(d + n);
        a0 = MADD(a0, dv, wasm_v128_load(x0 + n));
        a1 = MADD(a1, dv, wasm_v128_load(x1 + n));
        a2 = MADD(a2, dv, wasm_v128_load(x2 + n));
        a3 = MADD(a3, dv, wasm_v128_load(x3 + n));
      }
      float s0 = hsum(a0), s1 = hsum(a1), s2 = hsum(a2), s3 = hsum(a3);
      for (; n < N; n++) {
        s0 = madd1(s0, d[n], x0[n]);
        s1 = madd1(s1, d[n], x1[n]);
        s2 = madd1(s2, d[n], x2[n]);
        s3 = madd1(s3, d[n], x3[n]);
      }
      out[c] = s0;
      out[c + 1] = s1;
      out[c + 2] = s2;
      out[c + 3] = s3;
    }
    for (; c < C; c++) out[c] = dot(d, x + (size_t)c * N, N);
  }
  return KERNEL_OK;
}
