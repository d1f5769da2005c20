/*
 * max_pool: cuda-convnet MaxPool (pylearn2 pool.py / conv_util.cuh kLocalPool; Lasagne
 * MaxPool2DCCLayer forward) with partial windows (src/ops/steps.ts MaxPoolStep). c01b in and out:
 *
 *   out[c, oy, ox, b] = max over y in [oy*s, min(oy*s + P, H)), x in [ox*s, min(ox*s + P, W)) of in[c, y, x, b]
 *
 * Positions outside the image are excluded (never read as 0). Windows never start outside the image
 * because the planner's output size guarantees (outH - 1)*s < H. Rows and columns need not be
 * equal (a limit of the CUDA kernel that is lifted here).
 *
 * NaN, infinities and zeros follow cuda-convnet's kernel exactly (the same rule as
 * wgsl/max_pool.wgsl): the running maximum starts at the seed -2e38 and takes fmaxf of each
 * element, so a NaN never wins and the result is never below the seed:
 *
 *   out = max(seed, max of the window's non-NaN elements), with -0 < +0
 *
 * The comparison runs on integer keys: the f32 bits with the magnitude bits flipped for negatives
 * order like the floats (-0 just below +0), and a NaN becomes the seed's key. Exact: the result
 * is one of the inputs or the seed.
 *
 * Method: for each (c, oy, ox) the B batch entries are contiguous in and out: 4 lanes along the
 * batch, scalars for the last B % 4. When B < 4 the batch vectors would be mostly empty, so the 4
 * lanes run along ox instead (gathered, one window per lane).
 */
#include "common.h"

/* The key of the seed, f32(-2e38) (bits 0xff167699). */
#define SEED_KEY ((int32_t)-2132178586)

INLINE v128_t key4(v128_t x) {
  const v128_t nan = wasm_i32x4_gt(wasm_v128_and(x, wasm_i32x4_splat(0x7fffffff)), wasm_i32x4_splat(0x7f800000));
  const v128_t k = wasm_v128_xor(x, wasm_v128_and(wasm_i32x4_shr(x, 31), wasm_i32x4_splat(0x7fffffff)));
  return wasm_v128_bitselect(wasm_i32x4_splat(SEED_KEY), k, nan);
}

INLINE v128_t value4(v128_t k) {
  return wasm_v128_xor(k, wasm_v128_and(wasm_i32x4_shr(k, 31), wasm_i32x4_splat(0x7fffffff)));
}

INLINE int32_t key1(float x) {
  int32_t b;
  __builtin_memcpy(&b, &x, 4);
  if ((b & 0x7fffffff) > 0x7f800000) return SEED_KEY;
  return b ^ ((b >> 31) & 0x7fffffff);
}

INLINE float value1(int32_t k) {
  const int32_t b = k ^ ((k >> 31) & 0x7fffffff);
  float x;
  __builtin_memcpy(&x, &b, 4);
  return x;
}

EXPORT(max_pool)
int max_pool(const float* in, float* out, int C, int H, int W, int B, int P, int s, int outH, int outW) {
  if (C < 1 || H < 1 || W < 1 || B < 1 || P < 1 || s < 1 || outH < 1 || outW < 1) return KERNEL_BAD_ARGS;
  if ((int64_t)(outH - 1) * s >= H || (int64_t)(outW - 1) * s >= W) return KERNEL_BAD_ARGS;
  const size_t rowStride = (size_t)W * B; /* elements between image rows */
  const int B4 = B & ~3;
  for (int c = 0; c < C; c++) {
    const float* img = in + (size_t)c * H * rowStride;
    float* dst = out + (size_t)c * outH * outW * B;
    for (int oy = 0; oy < outH; oy++) {
      const int y0 = oy * s, y1 = y0 + P < H ? y0 + P : H;
      int ox = 0;
      if (B < 4) {
        /* lanes along ox: four full windows at a time (x1 = x0 + P for all four) */
        for (; ox + 4 <= outW && (ox + 3) * s + P <= W; ox += 4) {
          for (int b = 0; b < B; b++) {
            const size_t lane = (size_t)s * B;
            v128_t m = wasm_i32x4_splat(SEED_KEY);
            for (int y = y0; y < y1; y++) {
              const float* row = img + (size_t)y * rowStride + (size_t)ox * s * B + b;
              for (int x = 0; x < P; x++) {
                const float* e = row + (size_t)x * B;
                m = wasm_i32x4_max(m, key4(wasm_f32x4_make(e[0], e[lane], e[2 * lane], e[3 * lane])));
              }
            }
            m = value4(m);
            float* o = dst + ((size_t)oy * outW + ox) * B + b;
            o[0] = wasm_f32x4_extract_lane(m, 0);
            o[B] = wasm_f32x4_extract_lane(m, 1);
            o[2 * B] = wasm_f32x4_extract_lane(m, 2);
            o[3 * B] = wasm_f32x4_extract_lane(m, 3);
          }
        }
      }
      for (; ox < outW; ox++) {
        const int x0 = ox * s, x1 = x0 + P < W ? x0 + P : W;
        float* o = dst + ((size_t)oy * outW + ox) * B;
        int b = 0;
        for (; b < B4; b += 4) {
          v128_t m = wasm_i32x4_splat(SEED_KEY);
          for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++) m = wasm_i32x4_max(m, key4(wasm_v128_load(img + (size_t)y * rowStride + (size_t)x * B + b)));
          wasm_v128_store(o + b, value4(m));
        }
        for (; b < B; b++) {
          int32_t m = SEED_KEY;
          for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++) {
              const int32_t k = key1(img[(size_t)y * rowStride + (size_t)x * B + b]);
              m = k > m ? k : m;
            }
          o[b] = value1(m);
        }
      }
    }
  }
  return KERNEL_OK;
}
