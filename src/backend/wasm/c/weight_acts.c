/*
 * weight_acts: the weight gradient of cuda-convnet's FilterActs with its partial sums (pylearn2
 * WeightActs, weight_acts.cu; src/ops/backward.ts WeightActsStep). x c01b (C, H, W, B), dz c01b
 * (F, outH, outW, B) on Lasagne's grid, dw the kernel-layout (C, k, k, F) gradient:
 *
 *   module m = oy * colsCC + ox of cuda-convnet's UNTRUNCATED grid (rowsCC, colsCC), rowsCC =
 *   ceil((H + 2 pad - k) / s) + 1; M = rowsCC colsCC; P = partialSum (0: M), M % P == 0;
 *   partial[g, c, i, j, f] = sum over modules m in [gP, gP + P) with oy < outH, ox < outW (Lasagne's
 *                            truncated modules have dz = 0) and over b, of
 *                            x[c, oy*s + i - pad, ox*s + j - pad, b] * dz[f, oy, ox, b]   (x outside: 0)
 *   dw = sum over g = 0 .. M/P - 1 of partial[g]
 *
 * partial (M/P, C, k, k, F) lives in the caller's scratch (4 (M/P) C k^2 F bytes, the planner's
 * partialSumScratchBytes); with P == M there is none and dw is written directly.
 *
 * Method: for each module, each valid tap (c, i, j) reads one contiguous batch row of x and, for 4
 * filters at a time, the 4 contiguous batch rows of dz: 4 dot products sharing the x loads, f32x4
 * along the batch. Summation order (float32): per element of a group, modules in raster order,
 * each adding its batch dot (four lanes, ((l0 + l1) + (l2 + l3)), then the tail); then the groups
 * in order g = 0, 1, ...
 */
#include <string.h>

#include "backward.h"

/* t[f] += sum_b xrow[b] * dz[f * fs + b] for f = 0..3. */
INLINE void dot4(const float* xrow, const float* dzp, size_t fs, int B, float* t) {
  v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0, a2 = a0, a3 = a0;
  int b = 0;
  for (; b + 4 <= B; b += 4) {
    const v128_t xv = wasm_v128_load(xrow + b);
    a0 = MADD(a0, xv, wasm_v128_load(dzp + b));
    a1 = MADD(a1, xv, wasm_v128_load(dzp + fs + b));
    a2 = MADD(a2, xv, wasm_v128_load(dzp + 2 * fs + b));
    a3 = MADD(a3, xv, wasm_v128_load(dzp + 3 * fs + b));
  }
  float s0 = hsum(a0), s1 = hsum(a1), s2 = hsum(a2), s3 = hsum(a3);
  for (; b < B; b++) {
    const float xv = xrow[b];
    s0 = madd1(s0, xv, dzp[b]);
    s1 = madd1(s1, xv, dzp[fs + b]);
    s2 = madd1(s2, xv, dzp[2 * fs + b]);
    s3 = madd1(s3, xv, dzp[3 * fs + b]);
  }
  t[0] += s0;
  t[1] += s1;
  t[2] += s2;
  t[3] += s3;
}

EXPORT(weight_acts)
int weight_acts(const float* x, const float* dz, float* dw, float* partials, int C, int H, int W, int B, int F, int k, int s, int pad,
                int outH, int outW, int partialSum) {
  if (C < 1 || H < 1 || W < 1 || B < 1 || F < 1 || k < 1 || s < 1 || pad < 0 || outH < 1 || outW < 1 || partialSum < 0) return KERNEL_BAD_ARGS;
  if ((int64_t)H + 2 * pad < k || (int64_t)W + 2 * pad < k) return KERNEL_BAD_ARGS;
  const int rowsCC = (H + 2 * pad - k + s - 1) / s + 1, colsCC = (W + 2 * pad - k + s - 1) / s + 1;
  if (outH > rowsCC || outW > colsCC) return KERNEL_BAD_ARGS;
  const int64_t M = (int64_t)rowsCC * colsCC;
  const int64_t P = partialSum > 0 ? partialSum : M;
  if (M % P != 0) return KERNEL_BAD_ARGS;
  const int64_t G = M / P;
  if (G > 1 && partials == NULL) return KERNEL_BAD_ARGS;
  const size_t K = (size_t)C * k * k * F;
  const size_t fs = (size_t)outH * outW * B; /* between filters in dz */
  const int F4 = F & ~3;
  for (int64_t g = 0; g < G; g++) {
    float* target = G == 1 ? dw : partials + (size_t)g * K;
    memset(target, 0, K * 4);
    for (int64_t m = g * P; m < (g + 1) * P; m++) {
      const int oy = (int)(m / colsCC), ox = (int)(m % colsCC);
      if (oy >= outH || ox >= outW) continue;
      const float* dzp = dz + ((size_t)oy * outW + ox) * B;
      for (int c = 0; c < C; c++)
        for (int i = 0; i < k; i++) {
          const int y = oy * s + i - pad;
          if (y < 0 || y >= H) continue;
          for (int j = 0; j < k; j++) {
            const int xx = ox * s + j - pad;
            if (xx < 0 || xx >= W) continue;
            const float* xrow = x + (((size_t)c * H + y) * W + xx) * B;
            float* t = target + (((size_t)c * k + i) * k + j) * F;
            int f = 0;
            for (; f < F4; f += 4) dot4(xrow, dzp + (size_t)f * fs, fs, B, t + f);
            for (; f < F; f++) t[f] += dot(xrow, dzp + (size_t)f * fs, B);
          }
        }
    }
  }
  if (G > 1) {
    /* dw = partial[0] + partial[1] + ... in order, four elements at a time */
    size_t e = 0;
    for (; e + 4 <= K; e += 4) {
      v128_t acc = wasm_v128_load(partials + e);
      for (int64_t g = 1; g < G; g++) acc = wasm_f32x4_add(acc, wasm_v128_load(partials + (size_t)g * K + e));
      wasm_v128_store(dw + e, acc);
    }
    for (; e < K; e++) {
      float acc = partials[e];
      for (int64_t g = 1; g < G; g++) acc += partials[(size_t)g * K + e];
      dw[e] = acc;
    }
  }
  return KERNEL_OK;
}

/*
 * weight_grad_layout: the kernel-layout (C, k, k, F) gradient written into the parameter's layout
 * (src/ops/backward.ts WeightGradLayoutStep), the inverse of the forward's kernelWeights
 * permutation, an exact copy: fckk (layout 0) out[f, c, si, sj], ckkf (layout 1) out[c, si, sj, f],
 * with (si, sj) = (k-1-i, k-1-j) when flip, else (i, j).
 */
EXPORT(weight_grad_layout)
int weight_grad_layout(const float* dwk, float* out, int C, int k, int F, int layout, int flip) {
  if (C < 1 || k < 1 || F < 1 || layout < 0 || layout > 1 || flip < 0 || flip > 1) return KERNEL_BAD_ARGS;
  for (int c = 0; c < C; c++)
    for (int i = 0; i < k; i++)
      for (int j = 0; j < k; j++) {
        const int si = flip ? k - 1 - i : i, sj = flip ? k - 1 - j : j;
        const float* src = dwk + (((size_t)c * k + i) * k + j) * F;
        if (layout == 1) {
          memcpy(out + (((size_t)c * k + si) * k + sj) * F, src, (size_t)F * 4);
        } else {
          for (int f = 0; f < F; f++) out[(((size_t)f * C + c) * k + si) * k + sj] = src[f];
        }
      }
  return KERNEL_OK;
}
