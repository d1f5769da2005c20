/*
 * img_acts: the input gradient of cuda-convnet's FilterActs (pylearn2 ImageActs; src/ops/backward.ts
 * ImgActsStep). dz c01b (F, outH, outW, B) on Lasagne's grid, w the kernel-layout (C, k, k, F) weight
 * (flipped as the forward used it, NOT packed), dx c01b (C, H, W, B):
 *
 *   dx[c, y, x, b] = sum over taps (i, j) with y = oy*s + i - pad, x = ox*s + j - pad, 0 <= oy < outH,
 *                    0 <= ox < outW, and over f, of w[c, i, j, f] * dz[f, oy, ox, b]
 *
 * Method: dz is first transposed into scratch as dzT[(oy*outW + ox), f, b] so that, for one input
 * pixel and one tap, the F x B block it needs is contiguous. Each (c, y, x) then accumulates
 * 16 batch entries (four f32x4) at a time, then 4, then scalars, over its valid taps (i ascending,
 * j ascending; the tap rows are the i with (y + pad - i) % s == 0) and f ascending: acc += w * dz
 * (MADD, common.h; madd1 in the scalar tail). Scratch (img_acts_scratch_bytes): dzT, 4 F outH outW B bytes, then the
 * per-pixel tap tables (2 k^2 pointers, 2 k ints).
 */
#include "backward.h"

EXPORT(img_acts_scratch_bytes) uint32_t img_acts_scratch_bytes(int F, int outH, int outW, int B, int k) {
  uint64_t total = (uint64_t)F * outH * outW * B * 4 + (uint64_t)k * k * 2 * sizeof(void*) + (uint64_t)k * 2 * sizeof(int) + 16;
  return total > 0xFFFFFFF0ull ? 0xFFFFFFF0u : (uint32_t)total;
}

/* dx[c, y, x, b0 .. b0 + 4 NV) over the nt taps whose (weight row, dzT block) are listed. */
INLINE void pixel_tile(const float* const* wrows, const float* const* blocks, int nt, int F, int B, int b0, float* out, const int NV) {
  v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0, a2 = a0, a3 = a0;
  for (int t = 0; t < nt; t++) {
    const float* wr = wrows[t];
    const float* src = blocks[t] + b0;
    for (int f = 0; f < F; f++, src += B) {
      const v128_t w = wasm_v128_load32_splat(wr + f);
      a0 = MADD(a0, w, wasm_v128_load(src));
      if (NV > 1) {
        a1 = MADD(a1, w, wasm_v128_load(src + 4));
        a2 = MADD(a2, w, wasm_v128_load(src + 8));
        a3 = MADD(a3, w, wasm_v128_load(src + 12));
      }
    }
  }
  wasm_v128_store(out + b0, a0);
  if (NV > 1) {
    wasm_v128_store(out + b0 + 4, a1);
    wasm_v128_store(out + b0 + 8, a2);
    wasm_v128_store(out + b0 + 12, a3);
  }
}

EXPORT(img_acts)
int img_acts(const float* dz, const float* w, float* dx, float* scratch, int C, int H, int W, int B, int F, int k, int s, int pad,
             int outH, int outW) {
  if (C < 1 || H < 1 || W < 1 || B < 1 || F < 1 || k < 1 || s < 1 || pad < 0 || outH < 1 || outW < 1) return KERNEL_BAD_ARGS;
  if ((int64_t)(outH - 1) * s + k > (int64_t)H + 2 * pad || (int64_t)(outW - 1) * s + k > (int64_t)W + 2 * pad) return KERNEL_BAD_ARGS;
  const size_t P = (size_t)outH * outW;
  /* dzT[p, f, b] = dz[f, p, b] */
  for (int f = 0; f < F; f++)
    for (size_t p = 0; p < P; p++) {
      const float* src = dz + ((size_t)f * P + p) * B;
      float* dst = scratch + (p * F + f) * B;
      for (int b = 0; b < B; b++) dst[b] = src[b];
    }
  const float** wrows = (const float**)(scratch + P * F * B);
  const float** blocks = wrows + (size_t)k * k;
  int* ti = (int*)(blocks + (size_t)k * k);
  int* toy = ti + k;
  const int B16 = B & ~15, B4 = B & ~3;
  for (int c = 0; c < C; c++)
    for (int y = 0; y < H; y++) {
      /* tap rows i (ascending) that reach row y from a module row oy < outH */
      int nr = 0;
      for (int i = 0; i < k; i++) {
        const int t = y + pad - i;
        if (t < 0 || t % s != 0 || t / s >= outH) continue;
        ti[nr] = i;
        toy[nr++] = t / s;
      }
      for (int x = 0; x < W; x++) {
        int nt = 0;
        for (int r = 0; r < nr; r++)
          for (int j = 0; j < k; j++) {
            const int t = x + pad - j;
            if (t < 0 || t % s != 0 || t / s >= outW) continue;
            wrows[nt] = w + (((size_t)c * k + ti[r]) * k + j) * F;
            blocks[nt++] = scratch + ((size_t)toy[r] * outW + t / s) * F * B;
          }
        float* out = dx + (((size_t)c * H + y) * W + x) * B;
        int b = 0;
        for (; b < B16; b += 16) pixel_tile(wrows, blocks, nt, F, B, b, out, 4);
        for (; b < B4; b += 4) pixel_tile(wrows, blocks, nt, F, B, b, out, 1);
        for (; b < B; b++) {
          float acc = 0.0f;
          for (int t = 0; t < nt; t++)
            for (int f = 0; f < F; f++) acc = madd1(acc, wrows[t][f], blocks[t][(size_t)f * B + b]);
          out[b] = acc;
        }
      }
    }
  return KERNEL_OK;
}
