/*
 * Shared by the C kernels of build/kernels.wasm (the .c files of src/backend/wasm/c, built by scripts/build_kernels.mjs):
 * the export macro, the bias modes and nonlinearity codes of the fused epilogue, and small SIMD
 * helpers. The bias and nonlinearity codes (BIAS_*, ACT_*) come from codes.generated.h, generated from
 * src/ops/codes.ts, the table both backends use.
 *
 * Every tensor is float32 in C order inside the module's one linear memory; pointers are byte
 * addresses (wasm32: i32). Kernels return 0, or KERNEL_BAD_ARGS when a size is impossible (the glue
 * checks before calling, so this is a last line of defence, never a user-facing path).
 */
#ifndef LASAGNE_KERNELS_COMMON_H
#define LASAGNE_KERNELS_COMMON_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name), visibility("default")))
#define INLINE static inline __attribute__((always_inline))

#define KERNEL_OK 0
#define KERNEL_BAD_ARGS (-1)


/*
 * Elementwise nonlinearities (src/nonlinearities.ts `applyScalar` is the formula source of truth;
 * softmax is not elementwise and never reaches a kernel). p0, p1 are the kind's params in order:
 * leaky_rectify [leakiness]; scaled_tanh [scaleIn, scaleOut]; selu [scale, scaleNeg].
 */
#include "codes.generated.h"

/* The float32 formula of each kind, with the same NaN and overflow behaviour as applyScalar. */
INLINE float act_scalar(int kind, float p0, float p1, float x) {
  switch (kind) {
    case ACT_RECTIFY:
      /* max(0, x); NaN stays NaN */
      return x > 0.0f ? x : (x <= 0.0f ? 0.0f : x);
    case ACT_LEAKY_RECTIFY:
      /* x if x > 0 else leakiness*x (leakiness 0 gives 0, also for -inf) */
      return x > 0.0f ? x : (x <= 0.0f ? (p0 == 0.0f ? 0.0f : p0 * x) : x);
    case ACT_SIGMOID:
      /* 1/(1+e^-x); for x < 0 as e^x/(1+e^x) so e^-x never overflows */
      if (x >= 0.0f) return 1.0f / (1.0f + expf(-x));
      else {
        float e = expf(x);
        return e / (1.0f + e);
      }
    case ACT_TANH:
      return tanhf(x);
    case ACT_SCALED_TANH:
      /* tanh(scaleIn*x)*scaleOut */
      return tanhf(p0 * x) * p1;
    case ACT_ELU:
      /* x if x > 0 else expm1(x) */
      return x > 0.0f ? x : expm1f(x);
    case ACT_SELU:
      /* scale*(x if x > 0 else scaleNeg*expm1(x)) */
      return x > 0.0f ? p0 * x : p0 * (p1 * expm1f(x));
    case ACT_SOFTPLUS:
      /* log(1+e^x) = x + log1p(e^-x) for x > 0 */
      return x > 0.0f ? x + log1pf(expf(-x)) : log1pf(expf(x));
    default:
      return x;
  }
}

/* act_scalar on four lanes: the piecewise-linear kinds in SIMD, the transcendental ones per lane. */
INLINE v128_t act_vec(int kind, float p0, float p1, v128_t x) {
  switch (kind) {
    case ACT_LINEAR:
      return x;
    case ACT_RECTIFY:
      /* lanes with x <= 0 become +0; x > 0 and NaN pass through */
      return wasm_v128_andnot(x, wasm_f32x4_le(x, wasm_f32x4_splat(0.0f)));
    case ACT_LEAKY_RECTIFY:
      if (p0 == 0.0f) return wasm_v128_andnot(x, wasm_f32x4_le(x, wasm_f32x4_splat(0.0f)));
      /* NaN: the comparison is false and p0*NaN is NaN */
      return wasm_v128_bitselect(x, wasm_f32x4_mul(x, wasm_f32x4_splat(p0)), wasm_f32x4_gt(x, wasm_f32x4_splat(0.0f)));
    default: {
      float l0 = act_scalar(kind, p0, p1, wasm_f32x4_extract_lane(x, 0));
      float l1 = act_scalar(kind, p0, p1, wasm_f32x4_extract_lane(x, 1));
      float l2 = act_scalar(kind, p0, p1, wasm_f32x4_extract_lane(x, 2));
      float l3 = act_scalar(kind, p0, p1, wasm_f32x4_extract_lane(x, 3));
      return wasm_f32x4_make(l0, l1, l2, l3);
    }
  }
}

/*
 * MADD(acc, a, b) = acc + a*b on four lanes, the multiply-add of every hot loop. The plain SIMD
 * build multiplies then adds (two roundings, the same on every machine). The relaxed-SIMD build
 * (-mrelaxed-simd, build/kernels_relaxed.wasm, scripts/build_kernels.mjs) uses f32x4.relaxed_madd,
 * which the engine runs fused (one rounding, FMA) or as mul + add, whichever the machine does
 * fastest: results may differ from the plain build by rounding, within every suite's tolerance.
 */
#if defined(__wasm_relaxed_simd__)
#if __has_builtin(__builtin_wasm_relaxed_madd_f32x4)
/* clang >= 16: relaxed_madd(a, b, c) = a*b + c, the standard opcode 0xfd 0x105 */
#define MADD(acc, a, b) __builtin_wasm_relaxed_madd_f32x4((a), (b), (acc))
#else
/* clang 14-15 only know the proposal's prototype f32x4.fma (opcode 0xfd 0xaf); the build rewrites
 * every one to relaxed_madd (0xfd 0x105), which computes first*second + third of its operands in
 * the order given here */
#define MADD(acc, a, b) __builtin_wasm_fma_f32x4((a), (b), (acc))
#endif
#else
#define MADD(acc, a, b) wasm_f32x4_add((acc), wasm_f32x4_mul((a), (b)))
#endif

/* MADD on one float, for the scalar tails of the loops MADD runs: the same instruction (lane 0), so
 * an element's result never depends on whether it fell in a vector or in a tail (as the sub-batches
 * of worker threads move elements between them). The plain build compiles it to a scalar mul + add. */
INLINE float madd1(float acc, float a, float b) {
  return wasm_f32x4_extract_lane(MADD(wasm_f32x4_splat(acc), wasm_f32x4_splat(a), wasm_f32x4_splat(b)), 0);
}

/* In-place 4x4 transpose: rows (r0..r3) become columns. */
#define TRANSPOSE4(r0, r1, r2, r3)                            \
  do {                                                        \
    v128_t t0_ = wasm_i32x4_shuffle(r0, r1, 0, 4, 1, 5);      \
    v128_t t1_ = wasm_i32x4_shuffle(r0, r1, 2, 6, 3, 7);      \
    v128_t t2_ = wasm_i32x4_shuffle(r2, r3, 0, 4, 1, 5);      \
    v128_t t3_ = wasm_i32x4_shuffle(r2, r3, 2, 6, 3, 7);      \
    r0 = wasm_i32x4_shuffle(t0_, t2_, 0, 1, 4, 5);            \
    r1 = wasm_i32x4_shuffle(t0_, t2_, 2, 3, 6, 7);            \
    r2 = wasm_i32x4_shuffle(t1_, t3_, 0, 1, 4, 5);            \
    r3 = wasm_i32x4_shuffle(t1_, t3_, 2, 3, 6, 7);            \
  } while (0)

/* Stores the first `n` (1..4) lanes of v at p. */
INLINE void store_lanes(float* p, v128_t v, int n) {
  if (n == 4) {
    wasm_v128_store(p, v);
    return;
  }
  p[0] = wasm_f32x4_extract_lane(v, 0);
  if (n > 1) p[1] = wasm_f32x4_extract_lane(v, 1);
  if (n > 2) p[2] = wasm_f32x4_extract_lane(v, 2);
}

#endif
