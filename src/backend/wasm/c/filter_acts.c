/*
 * filter_acts: cuda-convnet FilterActs (pylearn2 filter_acts.cu; Lasagne Conv2DCCLayer forward), a
 * CORRELATION with zero padding, truncated to Lasagne's output size and fused with bias and
 * nonlinearity (src/ops/steps.ts FilterActsStep):
 *
 *   out[f, oy, ox, b] = act(bias + sum_{c, i, j} in[c, oy*s + i - pad, ox*s + j - pad, b] * w[c, i, j, f])
 *
 * Layouts: in c01b (C, H, W, B); out c01b (F, outH, outW, B); w is the kernel-layout (C, k, k, F)
 * weight (already flipped: src/ops/weights.ts kernelWeights) PACKED in filter blocks
 * (src/backend/wasm/layout.ts packFilters): with K = C*k*k and taps q = (c*k + i)*k + j, filters
 * are cut into blocks of 4 from filter 0, and a last F % 4 filters into blocks of 1; the block that
 * starts at filter f0 with width nb holds w[q, f0 + t] at packed[K*f0 + q*nb + t].
 * bias: tied b[f], untied b[f, oy, ox].
 *
 * Method: with P = outH*outW positions, one filter's output is contiguous along m = position*B + b
 * (batch innermost), so the op is a GEMM out[f, m] = sum_q w[q, f] * x[q, m], with x read through
 * a table of tap offsets from each window origin (no im2col). Two micro-kernels:
 *   - "quads", for batch entries 4g .. 4g + 3 at one position (all of them when B % 4 == 0): one
 *     f32x4 load reads a quad's input. A tile is 2 quads x 4 filters (8 accumulators): per tap,
 *     2 input vector loads, 4 weight splats, 8 multiply-adds; stores need no shuffle.
 *   - "lanes", for the B % 4 entries per position no quad covers (every entry when B < 4): a tile
 *     is any 4 output indices (so even batch 1 runs at full width) x 8 filters: per tap, 4 input
 *     splats, 2 weight vector loads, 8 multiply-adds; the 4x4 blocks are transposed in registers
 *     before storing.
 * Blocking: the output positions are cut into blocks whose output for all filters fits in L2
 * (OUT_BLOCK_FLOATS); within a block, taps are processed in chunks of whole channels (at most
 * TAP_CHUNK taps), so one tile's input lines stay in L1 while every filter passes over them; the
 * running sums of a tile are stored to the output between chunks and loaded back (exactly the same
 * float32 sequence as without chunks). Padding: when pad > 0 the input is first copied into a
 * zero-bordered scratch image, so the inner loops never test bounds. Positions beyond Lasagne's
 * size are never computed.
 *
 * Summation order (float32 throughout, identical in both kernels): for each output, acc = 0; for
 * c = 0..C-1, i = 0..k-1, j = 0..k-1 in that order acc = MADD(acc, in, w) (common.h: a separate
 * multiply and add in the plain SIMD build, relaxed_madd, fused or not, in the relaxed one; padded
 * positions add 0*w); then acc + bias; then the nonlinearity.
 */
#include <string.h>

#include "common.h"

/* Taps per chunk: a quad tile's input lines (<= 2 * TAP_CHUNK * 16 bytes) stay well inside L1. */
#define TAP_CHUNK 256
/* Output floats per block of positions (512 KiB): the running sums stay in L2 between chunks. */
#define OUT_BLOCK_FLOATS (128 * 1024)

static int geometry_ok(int C, int H, int W, int B, int F, int k, int s, int pad, int outH, int outW) {
  if (C < 1 || H < 1 || W < 1 || B < 1 || F < 1 || k < 1 || s < 1 || pad < 0 || outH < 1 || outW < 1) return 0;
  /* memory safety: the last window must lie inside the padded image (the rule is src/ops/steps.ts
     outputWindowProblem; the glue checks it before any call, so this never fires from the package) */
  if ((int64_t)(outH - 1) * s + k > (int64_t)H + 2 * pad) return 0;
  if ((int64_t)(outW - 1) * s + k > (int64_t)W + 2 * pad) return 0;
  return 1;
}

/* Bytes of scratch filter_acts needs: the zero-padded input copy (pad > 0) plus K int32 offsets. */
EXPORT(filter_acts_scratch_bytes) uint32_t filter_acts_scratch_bytes(int C, int H, int W, int B, int k, int pad) {
  uint64_t padded = pad > 0 ? (uint64_t)C * (H + 2 * pad) * (W + 2 * pad) * B * 4 : 0;
  uint64_t total = padded + (uint64_t)C * k * k * 4;
  return total > 0xFFFFFFF0ull ? 0xFFFFFFF0u : (uint32_t)total;
}

/* What every tile needs to know about the call. */
typedef struct {
  const int* offs;   /* tap offsets from a window origin, in bytes */
  const float* w;    /* packed weights */
  const float* bias;
  float* out;
  int K, P, B, bias_mode, act;
  float p0, p1;
  uint32_t M;
  int q0, q1;        /* this chunk's taps */
  int first, last;   /* first chunk: start from 0; last chunk: add bias, apply act */
} conv_args;

/* Quad tile: NQ (1 or 2) quads at m = mq[a] (4 batch entries each, one position) x NF (4 or 1)
 * filters from f0, whose packed block is w + K*f0 with width NF. */
INLINE void quad_tile(const conv_args* a, const float* x0, const float* x1, uint32_t mq0, uint32_t mq1, uint32_t pos0,
                      uint32_t pos1, int f0, const int NQ, const int NF) {
  const uint32_t M = a->M;
  float* o0 = a->out + (size_t)f0 * M + mq0;
  float* o1 = a->out + (size_t)f0 * M + mq1;
  v128_t c00, c01, c02, c03, c10, c11, c12, c13;
  if (a->first) {
    c00 = c01 = c02 = c03 = c10 = c11 = c12 = c13 = wasm_f32x4_splat(0.0f);
  } else {
    c00 = wasm_v128_load(o0);
    c01 = NF > 1 ? wasm_v128_load(o0 + M) : c00;
    c02 = NF > 1 ? wasm_v128_load(o0 + 2 * (size_t)M) : c00;
    c03 = NF > 1 ? wasm_v128_load(o0 + 3 * (size_t)M) : c00;
    c10 = NQ > 1 ? wasm_v128_load(o1) : c00;
    c11 = NQ > 1 && NF > 1 ? wasm_v128_load(o1 + M) : c00;
    c12 = NQ > 1 && NF > 1 ? wasm_v128_load(o1 + 2 * (size_t)M) : c00;
    c13 = NQ > 1 && NF > 1 ? wasm_v128_load(o1 + 3 * (size_t)M) : c00;
  }
  const float* wp = a->w + (size_t)a->K * f0 + (size_t)a->q0 * NF;
  const char* b0 = (const char*)x0;
  const char* b1 = (const char*)x1;
  for (const int *op = a->offs + a->q0, *end = a->offs + a->q1; op != end; op++, wp += NF) {
    const int o = *op;
    const v128_t v0 = wasm_v128_load(b0 + o);
    const v128_t v1 = NQ > 1 ? wasm_v128_load(b1 + o) : v0;
    v128_t w = wasm_v128_load32_splat(wp);
    c00 = MADD(c00, v0, w);
    if (NQ > 1) c10 = MADD(c10, v1, w);
    if (NF > 1) {
      w = wasm_v128_load32_splat(wp + 1);
      c01 = MADD(c01, v0, w);
      if (NQ > 1) c11 = MADD(c11, v1, w);
      w = wasm_v128_load32_splat(wp + 2);
      c02 = MADD(c02, v0, w);
      if (NQ > 1) c12 = MADD(c12, v1, w);
      w = wasm_v128_load32_splat(wp + 3);
      c03 = MADD(c03, v0, w);
      if (NQ > 1) c13 = MADD(c13, v1, w);
    }
  }
  v128_t acc[2][4] = {{c00, c01, c02, c03}, {c10, c11, c12, c13}};
  for (int h = 0; h < NQ; h++) {
    float* o = h ? o1 : o0;
    const uint32_t pos = h ? pos1 : pos0;
    for (int t = 0; t < NF; t++) {
      v128_t v = acc[h][t];
      if (a->last) {
        if (a->bias_mode == BIAS_TIED) v = wasm_f32x4_add(v, wasm_f32x4_splat(a->bias[f0 + t]));
        if (a->bias_mode == BIAS_UNTIED) v = wasm_f32x4_add(v, wasm_f32x4_splat(a->bias[(size_t)(f0 + t) * a->P + pos]));
        v = act_vec(a->act, a->p0, a->p1, v);
      }
      wasm_v128_store(o + (size_t)t * M, v);
    }
  }
}

/* The running sums of 4 lanes (n real) of one filter's output row: contiguous m, or scattered ones. */
INLINE v128_t load_lanes(const float* row, const uint32_t* m, int n, int contiguous) {
  if (contiguous && n == 4) return wasm_v128_load(row + m[0]);
  return wasm_f32x4_make(row[m[0]], n > 1 ? row[m[1]] : 0.0f, n > 2 ? row[m[2]] : 0.0f, n > 3 ? row[m[3]] : 0.0f);
}

INLINE void store_lanes_at(float* row, const uint32_t* m, v128_t v, int n, int contiguous) {
  if (contiguous) {
    store_lanes(row + m[0], v, n);
    return;
  }
  row[m[0]] = wasm_f32x4_extract_lane(v, 0);
  if (n > 1) row[m[1]] = wasm_f32x4_extract_lane(v, 1);
  if (n > 2) row[m[2]] = wasm_f32x4_extract_lane(v, 2);
  if (n > 3) row[m[3]] = wasm_f32x4_extract_lane(v, 3);
}

/* Lane tile: 4 lanes (n real) at output indices m[] with window origins x0..x3 and positions pos[],
 * x NV*4 filters from f0 (blocks of 4 at w + K*f0 and w + K*(f0 + 4)). */
INLINE void lane_tile(const conv_args* a, const float* x0, const float* x1, const float* x2, const float* x3,
                      const uint32_t* pos, const uint32_t* m, int n, int contiguous, int f0, const int NV) {
  const uint32_t M = a->M;
  v128_t a00, a10, a20, a30, a01, a11, a21, a31;
  if (a->first) {
    a00 = a10 = a20 = a30 = a01 = a11 = a21 = a31 = wasm_f32x4_splat(0.0f);
  } else {
    /* columns (one filter each) back to rows (one lane each) */
    const float* o = a->out + (size_t)f0 * M;
    a00 = load_lanes(o, m, n, contiguous);
    a10 = load_lanes(o + M, m, n, contiguous);
    a20 = load_lanes(o + 2 * (size_t)M, m, n, contiguous);
    a30 = load_lanes(o + 3 * (size_t)M, m, n, contiguous);
    TRANSPOSE4(a00, a10, a20, a30);
    a01 = a11 = a21 = a31 = a00;
    if (NV > 1) {
      a01 = load_lanes(o + 4 * (size_t)M, m, n, contiguous);
      a11 = load_lanes(o + 5 * (size_t)M, m, n, contiguous);
      a21 = load_lanes(o + 6 * (size_t)M, m, n, contiguous);
      a31 = load_lanes(o + 7 * (size_t)M, m, n, contiguous);
      TRANSPOSE4(a01, a11, a21, a31);
    }
  }
  const float* wp0 = a->w + (size_t)a->K * f0 + (size_t)a->q0 * 4;
  const float* wp1 = a->w + (size_t)a->K * (f0 + 4) + (size_t)a->q0 * 4;
  const char *b0 = (const char*)x0, *b1 = (const char*)x1, *b2 = (const char*)x2, *b3 = (const char*)x3;
  for (const int *op = a->offs + a->q0, *end = a->offs + a->q1; op != end; op++) {
    const int o = *op;
    const v128_t w0 = wasm_v128_load(wp0);
    const v128_t w1 = NV > 1 ? wasm_v128_load(wp1) : w0;
    wp0 += 4;
    if (NV > 1) wp1 += 4;
    const v128_t v0 = wasm_v128_load32_splat(b0 + o);
    const v128_t v1 = wasm_v128_load32_splat(b1 + o);
    const v128_t v2 = wasm_v128_load32_splat(b2 + o);
    const v128_t v3 = wasm_v128_load32_splat(b3 + o);
    a00 = MADD(a00, v0, w0);
    a10 = MADD(a10, v1, w0);
    a20 = MADD(a20, v2, w0);
    a30 = MADD(a30, v3, w0);
    if (NV > 1) {
      a01 = MADD(a01, v0, w1);
      a11 = MADD(a11, v1, w1);
      a21 = MADD(a21, v2, w1);
      a31 = MADD(a31, v3, w1);
    }
  }
  for (int h = 0; h < NV; h++) {
    /* rows: lanes; columns: filters fb .. fb + 3 */
    v128_t r0 = h ? a01 : a00, r1 = h ? a11 : a10, r2 = h ? a21 : a20, r3 = h ? a31 : a30;
    const int fb = f0 + 4 * h;
    if (a->last && a->bias_mode == BIAS_TIED) {
      const v128_t bv = wasm_v128_load(a->bias + fb);
      r0 = wasm_f32x4_add(r0, bv);
      r1 = wasm_f32x4_add(r1, bv);
      r2 = wasm_f32x4_add(r2, bv);
      r3 = wasm_f32x4_add(r3, bv);
    }
    TRANSPOSE4(r0, r1, r2, r3);
    /* now r_t holds filter fb + t for the 4 lanes */
    v128_t cols[4] = {r0, r1, r2, r3};
    for (int t = 0; t < 4; t++) {
      const int f = fb + t;
      v128_t v = cols[t];
      if (a->last) {
        if (a->bias_mode == BIAS_UNTIED) {
          const float* bf = a->bias + (size_t)f * a->P;
          v = wasm_f32x4_add(v, wasm_f32x4_make(bf[pos[0]], bf[pos[1]], bf[pos[2]], bf[pos[3]]));
        }
        v = act_vec(a->act, a->p0, a->p1, v);
      }
      store_lanes_at(a->out + (size_t)f * M, m, v, n, contiguous);
    }
  }
}

/* One filter (a width-1 block, only when F % 4 != 0) for 4 lanes. */
static void lane_tile1(const conv_args* a, const float* x0, const float* x1, const float* x2, const float* x3,
                       const uint32_t* pos, const uint32_t* m, int n, int contiguous, int f) {
  float* row = a->out + (size_t)f * a->M;
  v128_t acc = a->first ? wasm_f32x4_splat(0.0f) : load_lanes(row, m, n, contiguous);
  const float* wp = a->w + (size_t)a->K * f;
  for (int q = a->q0; q < a->q1; q++) {
    const int of = a->offs[q] / 4;
    const v128_t v = wasm_f32x4_make(x0[of], x1[of], x2[of], x3[of]);
    acc = MADD(acc, v, wasm_f32x4_splat(wp[q]));
  }
  if (a->last) {
    if (a->bias_mode == BIAS_TIED) acc = wasm_f32x4_add(acc, wasm_f32x4_splat(a->bias[f]));
    if (a->bias_mode == BIAS_UNTIED) {
      const float* bf = a->bias + (size_t)f * a->P;
      acc = wasm_f32x4_add(acc, wasm_f32x4_make(bf[pos[0]], bf[pos[1]], bf[pos[2]], bf[pos[3]]));
    }
    acc = act_vec(a->act, a->p0, a->p1, acc);
  }
  store_lanes_at(row, m, acc, n, contiguous);
}

/* Window origin (element offset into the padded source) and position of output index m. */
INLINE size_t origin(uint32_t m, uint32_t B, uint32_t outW, int s, int Wp, uint32_t* pos) {
  const uint32_t p = m / B, b = m - p * B;
  const uint32_t oy = p / outW, ox = p - oy * outW;
  *pos = p;
  return ((size_t)oy * s * Wp + (size_t)ox * s) * B + b;
}

/* Every quad of positions [p0, p1): batch entries 4j .. 4j + 3 (4j + 3 < B) at one position, as
 * tiles of 2 quads (quad g is at position g / (B/4)). */
static void run_quads(const conv_args* a, const float* src, int F, int outW, int s, int Wp, uint32_t p0, uint32_t p1) {
  const uint32_t B = (uint32_t)a->B, perPos = B / 4, nq = p1 * perPos;
  const int F4 = F & ~3;
  uint32_t g = p0 * perPos;
  for (; g + 2 <= nq; g += 2) {
    /* quad g: position g / perPos, first batch entry 4 * (g % perPos) */
    const uint32_t m0 = (g / perPos) * B + 4 * (g % perPos), m1 = ((g + 1) / perPos) * B + 4 * ((g + 1) % perPos);
    uint32_t pos0, pos1;
    const float* x0 = src + origin(m0, B, outW, s, Wp, &pos0);
    const float* x1 = src + origin(m1, B, outW, s, Wp, &pos1);
    int f0 = 0;
    for (; f0 < F4; f0 += 4) quad_tile(a, x0, x1, m0, m1, pos0, pos1, f0, 2, 4);
    for (; f0 < F; f0++) quad_tile(a, x0, x1, m0, m1, pos0, pos1, f0, 2, 1);
  }
  if (g < nq) {
    const uint32_t m0 = (g / perPos) * B + 4 * (g % perPos);
    uint32_t pos0;
    const float* x0 = src + origin(m0, B, outW, s, Wp, &pos0);
    int f0 = 0;
    for (; f0 < F4; f0 += 4) quad_tile(a, x0, x0, m0, m0, pos0, pos0, f0, 1, 4);
    for (; f0 < F; f0++) quad_tile(a, x0, x0, m0, m0, pos0, pos0, f0, 1, 1);
  }
}

/* The batch entries of positions [p0, p1) no quad covers (B % 4 per position; every entry when
 * B < 4), 4 lanes at a time; the lanes' m are consecutive only when B < 4. */
static void run_lanes(const conv_args* a, const float* src, int F, int outW, int s, int Wp, uint32_t p0, uint32_t p1) {
  const uint32_t B = (uint32_t)a->B, rest = B % 4, first = B - rest, L = p1 * rest;
  const int contiguous = B < 4;
  for (uint32_t l0 = p0 * rest; l0 < L; l0 += 4) {
    const int n = L - l0 < 4 ? (int)(L - l0) : 4;
    const float* x[4];
    uint32_t pos[4], m[4];
    /* a last partial tile repeats its last lane and stores only the real ones */
    for (int r = 0; r < 4; r++) {
      const uint32_t l = l0 + (uint32_t)(r < n ? r : n - 1);
      m[r] = (l / rest) * B + first + l % rest;
      x[r] = src + origin(m[r], B, outW, s, Wp, &pos[r]);
    }
    int f0 = 0;
    for (; f0 + 8 <= F; f0 += 8) lane_tile(a, x[0], x[1], x[2], x[3], pos, m, n, contiguous, f0, 2);
    if (f0 + 4 <= F) {
      lane_tile(a, x[0], x[1], x[2], x[3], pos, m, n, contiguous, f0, 1);
      f0 += 4;
    }
    for (; f0 < F; f0++) lane_tile1(a, x[0], x[1], x[2], x[3], pos, m, n, contiguous, f0);
  }
}

EXPORT(filter_acts)
int filter_acts(const float* in, const float* w, const float* bias, float* out, void* scratch, int C, int H, int W, int B,
                int F, int k, int s, int pad, int outH, int outW, int bias_mode, int act, float p0, float p1) {
  if (!geometry_ok(C, H, W, B, F, k, s, pad, outH, outW)) return KERNEL_BAD_ARGS;
  if (bias_mode < BIAS_NONE || bias_mode > BIAS_UNTIED || act < 0 || act >= ACT_COUNT) return KERNEL_BAD_ARGS;

  /* c01b source with the zero border materialised when pad > 0 */
  const float* src = in;
  int Hp = H, Wp = W;
  size_t padded_bytes = 0;
  if (pad > 0) {
    Hp = H + 2 * pad;
    Wp = W + 2 * pad;
    float* dst = (float*)scratch;
    padded_bytes = (size_t)C * Hp * Wp * B * 4;
    memset(dst, 0, padded_bytes);
    for (int c = 0; c < C; c++)
      for (int y = 0; y < H; y++)
        memcpy(dst + (((size_t)c * Hp + y + pad) * Wp + pad) * B, in + ((size_t)c * H + y) * W * B, (size_t)W * B * 4);
    src = dst;
  }

  /* offs[q] = byte offset of tap q = (c, i, j) from a window origin */
  int* offs = (int*)((char*)scratch + padded_bytes);
  for (int c = 0, q = 0; c < C; c++)
    for (int i = 0; i < k; i++)
      for (int j = 0; j < k; j++) offs[q++] = (int)((((size_t)c * Hp + i) * Wp + j) * B * 4);

  conv_args a = {offs, w, bias, out, C * k * k, outH * outW, B, bias_mode, act, p0, p1, (uint32_t)(outH * outW) * (uint32_t)B,
                 0, 0, 1, 0};
  int channels_per_chunk = TAP_CHUNK / (k * k);
  if (channels_per_chunk < 1) channels_per_chunk = 1;
  /* positions per block: the block's output for every filter (its running sums) stays in L2 */
  uint32_t block = OUT_BLOCK_FLOATS / ((uint32_t)F * (uint32_t)B);
  if (block < 2) block = 2;
  const uint32_t P = a.P;
  for (uint32_t p0 = 0; p0 < P; p0 += block) {
    const uint32_t p1 = P - p0 < block ? P : p0 + block;
    for (int c0 = 0; c0 < C; c0 += channels_per_chunk) {
      const int c1 = C - c0 < channels_per_chunk ? C : c0 + channels_per_chunk;
      a.q0 = c0 * k * k;
      a.q1 = c1 * k * k;
      a.first = c0 == 0;
      a.last = c1 == C;
      if (B >= 4) run_quads(&a, src, F, outW, s, Wp, p0, p1);
      if (B % 4 != 0) run_lanes(&a, src, F, outW, s, Wp, p0, p1);
    }
  }
  return KERNEL_OK;
}
