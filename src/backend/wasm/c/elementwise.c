/*
 * The forward ops around the cuda-convnet ones (src/ops/training.ts ExtraForwardStep), inference and
 * training: copy (FlattenLayer, ReshapeLayer), activation (NonlinearityLayer), softmax over the
 * units of (U, B), dropout (DropoutLayer, training only) and global_pool (GlobalPoolLayer), with
 * the gradients that are their own kernels: softmax_grad and global_pool_grad.
 *
 * Layouts as the steps state them: (U, B) and (C, P, B) batch last, C order, float32. Every op
 * reads whole tensors and writes whole tensors; copy, activation and dropout may run in place.
 */
#include <string.h>

#include "common.h"

/* out[i] = in[i] for n floats (in == out allowed, overlap allowed). */
EXPORT(copy_floats) int copy_floats(const float* in, float* out, int n) {
  if (n < 0) return KERNEL_BAD_ARGS;
  if (in != out) memmove(out, in, (size_t)n * 4);
  return KERNEL_OK;
}

/* out[i] = act(in[i]) over n floats with the epilogue's table (common.h act_vec / act_scalar). */
EXPORT(activation) int activation(const float* in, float* out, int n, int act, float p0, float p1) {
  if (n < 0 || act < 0 || act >= ACT_COUNT) return KERNEL_BAD_ARGS;
  int i = 0;
  for (; i + 4 <= n; i += 4) wasm_v128_store(out + i, act_vec(act, p0, p1, wasm_v128_load(in + i)));
  for (; i < n; i++) out[i] = act_scalar(act, p0, p1, in[i]);
  return KERNEL_OK;
}

/* Columns per block of the (U, B) ops: per-column running values live on the stack. */
#define COLS 64

/*
 * softmax over u of (U, B): out[u, b] = exp(in[u, b] - m_b) / s_b, m_b = max_u in[u, b],
 * s_b = sum_u exp(in[u, b] - m_b) summed in u order (float32). Runs over blocks of COLS columns,
 * each pass along a row contiguous. in == out is not allowed (in is read twice after out is written).
 */
EXPORT(softmax) int softmax(const float* in, float* out, int U, int B) {
  if (U < 1 || B < 1) return KERNEL_BAD_ARGS;
  float m[COLS], s[COLS];
  for (int b0 = 0; b0 < B; b0 += COLS) {
    const int nb = B - b0 < COLS ? B - b0 : COLS;
    for (int j = 0; j < nb; j++) {
      m[j] = in[b0 + j];
      s[j] = 0.0f;
    }
    for (int u = 1; u < U; u++) {
      const float* row = in + (size_t)u * B + b0;
      for (int j = 0; j < nb; j++) m[j] = row[j] > m[j] ? row[j] : m[j];
    }
    for (int u = 0; u < U; u++) {
      const float* row = in + (size_t)u * B + b0;
      float* o = out + (size_t)u * B + b0;
      for (int j = 0; j < nb; j++) {
        const float e = expf(row[j] - m[j]);
        o[j] = e;
        s[j] += e;
      }
    }
    for (int u = 0; u < U; u++) {
      float* o = out + (size_t)u * B + b0;
      for (int j = 0; j < nb; j++) o[j] = o[j] / s[j];
    }
  }
  return KERNEL_OK;
}

/*
 * softmax_grad: dz[u, b] = p[u, b] (g[u, b] - d_b),  d_b = sum_u g[u, b] p[u, b] (float32, u order).
 * dz may be g (in place): d_b is complete before any dz is written.
 */
EXPORT(softmax_grad) int softmax_grad(const float* p, const float* g, float* dz, int U, int B) {
  if (U < 1 || B < 1) return KERNEL_BAD_ARGS;
  float d[COLS];
  for (int b0 = 0; b0 < B; b0 += COLS) {
    const int nb = B - b0 < COLS ? B - b0 : COLS;
    for (int j = 0; j < nb; j++) d[j] = 0.0f;
    for (int u = 0; u < U; u++) {
      const float* pr = p + (size_t)u * B + b0;
      const float* gr = g + (size_t)u * B + b0;
      for (int j = 0; j < nb; j++) d[j] += gr[j] * pr[j];
    }
    for (int u = 0; u < U; u++) {
      const float* pr = p + (size_t)u * B + b0;
      const float* gr = g + (size_t)u * B + b0;
      float* o = dz + (size_t)u * B + b0;
      for (int j = 0; j < nb; j++) o[j] = pr[j] * (gr[j] - d[j]);
    }
  }
  return KERNEL_OK;
}

/* The u32 mix of src/ops/training.ts DropoutStep, on four lanes (i32x4.mul is the low 32 bits: imul). */
INLINE v128_t mix4(v128_t x) {
  x = wasm_v128_xor(x, wasm_u32x4_shr(x, 16));
  x = wasm_i32x4_mul(x, wasm_i32x4_splat((int32_t)0x7feb352du));
  x = wasm_v128_xor(x, wasm_u32x4_shr(x, 15));
  x = wasm_i32x4_mul(x, wasm_i32x4_splat((int32_t)0x846ca68bu));
  return wasm_v128_xor(x, wasm_u32x4_shr(x, 16));
}

INLINE uint32_t mix1(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}

/*
 * dropout over a (rows, cols) block of a tensor (in and out laid out (rows, cols) contiguously)
 * whose element (r, j) has flat index i = r * row_stride + col0 + j in the full tensor: the whole
 * tensor is rows = 1, cols = count (or rows = count / B, cols = row_stride = B); a thread's batch
 * slice of a batch-last tensor is rows = count / B, cols = its batch, row_stride = B, col0 = its
 * first entry. u32 arithmetic throughout, seed and counter as u32 bit patterns:
 *   key = mix(seed + counter * 0x9E3779B9);  keep(i) = (mix(i ^ key) >> 8) >= threshold
 *   out[i] = keep(i) ? in[i] * scale : 0     (a dropped NaN is 0 too; in == out allowed)
 */
EXPORT(dropout)
int dropout(const float* in, float* out, int rows, int cols, int row_stride, int col0, int seed, int counter, int threshold, float scale) {
  if (rows < 0 || cols < 0 || row_stride < 0 || col0 < 0 || threshold < 0) return KERNEL_BAD_ARGS;
  const uint32_t key = mix1((uint32_t)seed + (uint32_t)counter * 0x9E3779B9u);
  const v128_t vkey = wasm_i32x4_splat((int32_t)key);
  const v128_t vthr = wasm_i32x4_splat(threshold);
  const v128_t vscale = wasm_f32x4_splat(scale);
  const v128_t zero = wasm_f32x4_splat(0.0f);
  const v128_t four = wasm_i32x4_splat(4);
  for (int r = 0; r < rows; r++) {
    const float* x = in + (size_t)r * cols;
    float* y = out + (size_t)r * cols;
    const uint32_t i0 = (uint32_t)r * (uint32_t)row_stride + (uint32_t)col0;
    v128_t idx = wasm_i32x4_make((int32_t)i0, (int32_t)(i0 + 1), (int32_t)(i0 + 2), (int32_t)(i0 + 3));
    int j = 0;
    for (; j + 4 <= cols; j += 4, idx = wasm_i32x4_add(idx, four)) {
      const v128_t h = wasm_u32x4_shr(mix4(wasm_v128_xor(idx, vkey)), 8);
      /* h < 2^24 and threshold <= 2^24: a signed compare is exact */
      const v128_t keep = wasm_i32x4_ge(h, vthr);
      wasm_v128_store(y + j, wasm_v128_bitselect(wasm_f32x4_mul(wasm_v128_load(x + j), vscale), zero, keep));
    }
    for (; j < cols; j++) {
      const uint32_t h = mix1((i0 + (uint32_t)j) ^ key) >> 8;
      y[j] = h >= (uint32_t)threshold ? x[j] * scale : 0.0f;
    }
  }
  return KERNEL_OK;
}

/* global_pool: (C, P, B) -> (C, B), out[c, b] = (sum_p in[c, p, b]) / P, summed in p order (float32). */
EXPORT(global_pool) int global_pool(const float* in, float* out, int C, int P, int B) {
  if (C < 1 || P < 1 || B < 1) return KERNEL_BAD_ARGS;
  for (int c = 0; c < C; c++) {
    float* o = out + (size_t)c * B;
    const float* x = in + (size_t)c * P * B;
    for (int b = 0; b < B; b++) o[b] = x[b];
    for (int p = 1; p < P; p++) {
      const float* row = x + (size_t)p * B;
      for (int b = 0; b < B; b++) o[b] += row[b];
    }
    const float fp = (float)P;
    for (int b = 0; b < B; b++) o[b] = o[b] / fp;
  }
  return KERNEL_OK;
}

/* global_pool_grad: dx[c, p, b] = dy[c, b] / P. */
EXPORT(global_pool_grad) int global_pool_grad(const float* dy, float* dx, int C, int P, int B) {
  if (C < 1 || P < 1 || B < 1) return KERNEL_BAD_ARGS;
  const float fp = (float)P;
  for (int c = 0; c < C; c++) {
    const float* g = dy + (size_t)c * B;
    for (int p = 0; p < P; p++) {
      float* o = dx + ((size_t)c * P + p) * B;
      for (int b = 0; b < B; b++) o[b] = g[b] / fp;
    }
  }
  return KERNEL_OK;
}
