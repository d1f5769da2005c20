/*
 * bias_act_grad: the first backward step of a conv or NIN layer (src/ops/backward.ts BiasActGradStep),
 * the nonlinearity's derivative fused with the bias gradient in one pass over the output gradient.
 * Layout (F, P, B): F filters/units, P positions, batch innermost (c01b conv output, NIN (U, N)).
 *
 *   dz[f, p, b] = dy[f, p, b] * act'(y[f, p, b])          (backward.h; dz may be dy: in place)
 *   tied:   db[f]    = sum_{p, b} dz[f, p, b]
 *   untied: db[f, p] = sum_b dz[f, p, b]
 *   none:   no db
 *
 * With act linear, y is not read and dz is not written when it is dy. Summation order (float32):
 * per f (tied) or (f, p) (untied), four lanes along the run, then ((l0 + l1) + (l2 + l3)), then the
 * tail in order.
 */
#include "backward.h"

/* dz over n contiguous floats, and their sum (four lanes, then the tail). */
static float grad_run(const float* y, const float* dy, float* dz, size_t n, int act, float p0, float p1) {
  v128_t acc = wasm_f32x4_splat(0.0f);
  size_t i = 0;
  const int write = act != ACT_LINEAR || dz != dy;
  for (; i + 4 <= n; i += 4) {
    v128_t g = wasm_v128_load(dy + i);
    if (act != ACT_LINEAR) g = wasm_f32x4_mul(g, act_grad_vec(act, p0, p1, wasm_v128_load(y + i)));
    if (write) wasm_v128_store(dz + i, g);
    acc = wasm_f32x4_add(acc, g);
  }
  float s = hsum(acc);
  for (; i < n; i++) {
    float g = dy[i];
    if (act != ACT_LINEAR) g *= act_grad_scalar(act, p0, p1, y[i]);
    if (write) dz[i] = g;
    s += g;
  }
  return s;
}

EXPORT(bias_act_grad)
int bias_act_grad(const float* y, const float* dy, float* dz, float* db, int F, int P, int B, int bias_mode, int act, float p0, float p1) {
  if (F < 1 || P < 1 || B < 1) return KERNEL_BAD_ARGS;
  if (bias_mode < BIAS_NONE || bias_mode > BIAS_UNTIED || act < 0 || act >= ACT_COUNT) return KERNEL_BAD_ARGS;
  const size_t run = (size_t)P * B;
  for (int f = 0; f < F; f++) {
    const size_t o = (size_t)f * run;
    if (bias_mode == BIAS_UNTIED) {
      for (int p = 0; p < P; p++) {
        const size_t q = o + (size_t)p * B;
        db[(size_t)f * P + p] = grad_run(y + q, dy + q, dz + q, (size_t)B, act, p0, p1);
      }
    } else {
      const float s = grad_run(y + o, dy + o, dz + o, run, act, p0, p1);
      if (bias_mode == BIAS_TIED) db[f] = s;
    }
  }
  return KERNEL_OK;
}
