/*
 * max_pool: cuda-convnet MaxPool (pylearn2 pool.py / conv_util.cuh kLocalPool; Lasagne
 * MaxPool2DCCLayer forward) with partial windows (src/ops/steps.ts MaxPoolStep). c01b in and out:
 *
 *   out[c, oy, ox, b] = max over y in [oy*s, min(oy*s + P, H)), x in [ox*s, min(ox*s + P, W)) of in[c, y, x, b]
 *
 * Positions outside the image are excluded (never read as 0). Windows never start outside the image
 * because the planner's output size guarantees (outH - 1)*s < H. The running maximum starts at the
 * window's first element (so it is exactly the window maximum, also below cuda-convnet's -2e38
 * start value) and uses wasm's max (f32x4.max, f32.max): NaN propagates; -0 < +0. Rows and columns
 * need not be equal (a limit of the CUDA kernel that is lifted here).
 *
 * Method: for each (c, oy, ox) the B batch entries are contiguous in and out: f32x4 along the batch,
 * scalars for the last B % 4. When B < 4 the batch vectors would be mostly empty, so the 4 lanes
 * run along ox instead (gathered, one window per lane).
 */
#include "common.h"

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
            const float* base = img + (size_t)y0 * rowStride + (size_t)ox * s * B + b;
            const size_t lane = (size_t)s * B;
            v128_t m = wasm_f32x4_make(base[0], base[lane], base[2 * lane], base[3 * lane]);
            for (int y = y0; y < y1; y++) {
              const float* row = img + (size_t)y * rowStride + (size_t)ox * s * B + b;
              for (int x = 0; x < P; x++) {
                const float* e = row + (size_t)x * B;
                m = wasm_f32x4_max(m, wasm_f32x4_make(e[0], e[lane], e[2 * lane], e[3 * lane]));
              }
            }
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
        const float* first = img + (size_t)y0 * rowStride + (size_t)x0 * B;
        float* o = dst + ((size_t)oy * outW + ox) * B;
        int b = 0;
        for (; b < B4; b += 4) {
          v128_t m = wasm_v128_load(first + b);
          for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++) m = wasm_f32x4_max(m, wasm_v128_load(img + (size_t)y * rowStride + (size_t)x * B + b));
          wasm_v128_store(o + b, m);
        }
        for (; b < B; b++) {
          float m = first[b];
          for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++) m = __builtin_wasm_max_f32(m, img[(size_t)y * rowStride + (size_t)x * B + b]);
          o[b] = m;
        }
      }
    }
  }
  return KERNEL_OK;
}
