/*
 * Shared by the backward kernels (act_grad.c, img_acts.c, weight_acts.c, and the gradients in
 * max_pool.c and nin.c): the derivative of every fused nonlinearity, read from the forward OUTPUT
 * y = act(x) (the forward kernels keep only y), with the codes of common.h ACT_*.
 *
 *   linear 1;  rectify y > 0 ? 1 : 0;  leaky_rectify y > 0 ? 1 : p0;  sigmoid y (1 - y);
 *   tanh 1 - y^2;  scaled_tanh p0 p1 (1 - (y / p1)^2) (0 when p1 == 0);  elu y > 0 ? 1 : y + 1;
 *   selu y > 0 ? p0 : y + p0 p1;  softplus -expm1(-y)  (sigmoid(x) = 1 - e^{-softplus(x)})
 *
 * At a kink (x == 0) y cannot tell x = 0 from x < 0, so the x <= 0 side is taken (as cuDNN and
 * PyTorch do for rectify). Reading the branch from y needs leakiness >= 0 and selu's scale > 0,
 * scaleNeg >= 0; the step builder (src/ops/backward.ts) refuses other values.
 */
#ifndef LASAGNE_KERNELS_BACKWARD_H
#define LASAGNE_KERNELS_BACKWARD_H

#include "common.h"

INLINE float act_grad_scalar(int kind, float p0, float p1, float y) {
  switch (kind) {
    case ACT_RECTIFY:
      return y > 0.0f ? 1.0f : 0.0f;
    case ACT_LEAKY_RECTIFY:
      return y > 0.0f ? 1.0f : p0;
    case ACT_SIGMOID:
      return y * (1.0f - y);
    case ACT_TANH:
      return 1.0f - y * y;
    case ACT_SCALED_TANH: {
      if (p1 == 0.0f) return 0.0f;
      const float t = y / p1;
      return p0 * p1 * (1.0f - t * t);
    }
    case ACT_ELU:
      return y > 0.0f ? 1.0f : y + 1.0f;
    case ACT_SELU:
      return y > 0.0f ? p0 : y + p0 * p1;
    case ACT_SOFTPLUS:
      return -expm1f(-y);
    default:
      return 1.0f;
  }
}

/* act_grad_scalar on four lanes: every kind in SIMD except softplus (per lane, it needs expm1f). */
INLINE v128_t act_grad_vec(int kind, float p0, float p1, v128_t y) {
  const v128_t one = wasm_f32x4_splat(1.0f);
  const v128_t pos = wasm_f32x4_gt(y, wasm_f32x4_splat(0.0f));
  switch (kind) {
    case ACT_RECTIFY:
      return wasm_v128_and(one, pos);
    case ACT_LEAKY_RECTIFY:
      return wasm_v128_bitselect(one, wasm_f32x4_splat(p0), pos);
    case ACT_SIGMOID:
      return wasm_f32x4_mul(y, wasm_f32x4_sub(one, y));
    case ACT_TANH:
      return wasm_f32x4_sub(one, wasm_f32x4_mul(y, y));
    case ACT_SCALED_TANH: {
      if (p1 == 0.0f) return wasm_f32x4_splat(0.0f);
      const v128_t t = wasm_f32x4_div(y, wasm_f32x4_splat(p1));
      return wasm_f32x4_mul(wasm_f32x4_splat(p0 * p1), wasm_f32x4_sub(one, wasm_f32x4_mul(t, t)));
    }
    case ACT_ELU:
      return wasm_v128_bitselect(one, wasm_f32x4_add(y, one), pos);
    case ACT_SELU:
      return wasm_v128_bitselect(wasm_f32x4_splat(p0), wasm_f32x4_add(y, wasm_f32x4_splat(p0 * p1)), pos);
    case ACT_SOFTPLUS:
      return wasm_f32x4_make(act_grad_scalar(kind, p0, p1, wasm_f32x4_extract_lane(y, 0)), act_grad_scalar(kind, p0, p1, wasm_f32x4_extract_lane(y, 1)),
                             act_grad_scalar(kind, p0, p1, wasm_f32x4_extract_lane(y, 2)), act_grad_scalar(kind, p0, p1, wasm_f32x4_extract_lane(y, 3)));
    default:
      return one;
  }
}

/* Horizontal sum of four lanes, in the order ((l0 + l1) + (l2 + l3)). */
INLINE float hsum(v128_t v) {
  return (wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1)) + (wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3));
}

/* sum_b a[b] * b[b] over n floats: four lanes, then the tail. */
INLINE float dot(const float* a, const float* b, int n) {
  v128_t acc = wasm_f32x4_splat(0.0f);
  int i = 0;
  for (; i + 4 <= n; i += 4) acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_v128_load(a + i), wasm_v128_load(b + i)));
  float s = hsum(acc);
  for (; i < n; i++) s += a[i] * b[i];
  return s;
}

#endif
