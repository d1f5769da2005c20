/*
 * max_pool_grad: the gradient of cuda-convnet's MaxPool with partial windows (pylearn2 MaxPoolGrad,
 * conv_util.cu kLocalMaxUndo; src/ops/backward.ts MaxPoolGradStep). x c01b (C, H, W, B) the pooled
 * input, y (C, outH, outW, B) the forward output, dy its gradient, dx (C, H, W, B):
 *
 *   dx[c, yy, xx, b] = sum over the windows (oy, ox) containing (yy, xx) of (x[c, yy, xx, b] == y[c, oy, ox, b]) * dy[c, oy, ox, b]
 *
 * Every tied maximum receives the gradient; windows are [oy*s, min(oy*s + P, H)) x [ox*s, min(ox*s + P, W)).
 * No multiple-of-16 channel limit (a limit of the CUDA kernel, lifted here).
 *
 * Method: dx is zeroed, then each window adds dy where x equals the window's maximum: f32x4 along the
 * batch (a lane mask selects dy or 0), scalars for the last B % 4. Windows in raster order, so
 * overlapping windows add in a fixed order (float32, deterministic).
 */
#include <string.h>

#include "common.h"

EXPORT(max_pool_grad)
int max_pool_grad(const float* x, const float* y, const float* dy, float* dx, int C, int H, int W, int B, int P, int s, int outH, int outW) {
  if (C < 1 || H < 1 || W < 1 || B < 1 || P < 1 || s < 1 || outH < 1 || outW < 1) return KERNEL_BAD_ARGS;
  if ((int64_t)(outH - 1) * s >= H || (int64_t)(outW - 1) * s >= W) return KERNEL_BAD_ARGS;
  memset(dx, 0, (size_t)C * H * W * B * 4);
  const size_t rowStride = (size_t)W * B;
  const int B4 = B & ~3;
  for (int c = 0; c < C; c++) {
    const float* img = x + (size_t)c * H * rowStride;
    float* dimg = dx + (size_t)c * H * rowStride;
    for (int oy = 0; oy < outH; oy++) {
      const int y0 = oy * s, y1 = y0 + P < H ? y0 + P : H;
      for (int ox = 0; ox < outW; ox++) {
        const int x0 = ox * s, x1 = x0 + P < W ? x0 + P : W;
        const size_t o = ((((size_t)c * outH + oy) * outW) + ox) * B;
        int b = 0;
        for (; b < B4; b += 4) {
          const v128_t m = wasm_v128_load(y + o + b), g = wasm_v128_load(dy + o + b);
          for (int yy = y0; yy < y1; yy++)
            for (int xx = x0; xx < x1; xx++) {
              const size_t e = (size_t)yy * rowStride + (size_t)xx * B + b;
              const v128_t hit = wasm_f32x4_eq(wasm_v128_load(img + e), m);
              wasm_v128_store(dimg + e, wasm_f32x4_add(wasm_v128_load(dimg + e), wasm_v128_and(g, hit)));
            }
        }
        for (; b < B; b++) {
          const float m = y[o + b], g = dy[o + b];
          for (int yy = y0; yy < y1; yy++)
            for (int xx = x0; xx < x1; xx++) {
              const size_t e = (size_t)yy * rowStride + (size_t)xx * B + b;
              if (img[e] == m) dimg[e] += g;
            }
        }
      }
    }
  }
  return KERNEL_OK;
}
