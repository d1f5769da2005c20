/*
 * The training-only ops of src/ops/training.ts: weight_form (a conv weight's kernel form), the
 * loss with its gradient, the penalty, the update rules, and pack_filters (the packed filter form
 * filter_acts.c reads, made on the device during a training run from the kernel-form tensor).
 *
 * Reductions (the loss, the penalty) accumulate in float64 in a fixed order (element order), so a
 * run gives the same value every time; elementwise results are float32.
 */
#include <string.h>

#include "common.h"

/*
 * weight_form: a conv weight from its parameter layout to the kernel layout (C, k, k, F), flipped
 * when `flip`: out[c, i, j, f] = w[f, c, si, sj] (layout 0, 'fckk') or w[c, si, sj, f] (layout 1,
 * 'ckkf'), (si, sj) = (k-1-i, k-1-j) when flip, else (i, j). The inverse of weight_grad_layout.
 */
EXPORT(weight_form) int weight_form(const float* w, float* out, int C, int k, int F, int layout, int flip) {
  if (C < 1 || k < 1 || F < 1 || layout < 0 || layout > 1 || flip < 0 || flip > 1) return KERNEL_BAD_ARGS;
  for (int c = 0; c < C; c++)
    for (int i = 0; i < k; i++)
      for (int j = 0; j < k; j++) {
        const int si = flip ? k - 1 - i : i, sj = flip ? k - 1 - j : j;
        float* dst = out + (((size_t)c * k + i) * k + j) * F;
        if (layout == 1) {
          memcpy(dst, w + (((size_t)c * k + si) * k + sj) * F, (size_t)F * 4);
        } else {
          for (int f = 0; f < F; f++) dst[f] = w[(((size_t)f * C + c) * k + si) * k + sj];
        }
      }
  return KERNEL_OK;
}

/*
 * pack_filters: the kernel-layout (K, F) weight (K = C k k taps) into filter_acts.c's packed form
 * (src/backend/wasm/layout.ts packFilters): blocks of 4 filters from filter 0, then blocks of 1;
 * the block at f0 of width nb holds w[q, f0 + t] at packed[K f0 + q nb + t].
 */
EXPORT(pack_filters) int pack_filters(const float* w, float* packed, int K, int F) {
  if (K < 1 || F < 1) return KERNEL_BAD_ARGS;
  for (int f0 = 0; f0 < F;) {
    const int nb = F - f0 >= 4 ? 4 : 1;
    float* dst = packed + (size_t)K * f0;
    for (int q = 0; q < K; q++)
      for (int t = 0; t < nb; t++) dst[(size_t)q * nb + t] = w[(size_t)q * F + f0 + t];
    f0 += nb;
  }
  return KERNEL_OK;
}

/* Loss kinds, in the order of src/backend/wasm/training.ts LOSS_CODES. */
enum {
  LOSS_CATEGORICAL_CROSSENTROPY = 0,
  LOSS_BINARY_CROSSENTROPY = 1,
  LOSS_SQUARED_ERROR = 2,
  LOSS_BINARY_HINGE = 3,
  LOSS_MULTICLASS_HINGE = 4,
  LOSS_COUNT = 5
};

/* A loss call whose index targets are not integers in [0, U). */
#define KERNEL_BAD_TARGETS (-2)

/*
 * loss: the objective and its gradient (src/ops/training.ts LossStep). pred and grad (U, B);
 * targets (B) class indices as floats (index_targets) or (U, B) dense. *loss_out = w * sum of the
 * losses and the gradient carries w too: the caller passes w = 1 / (B per example, U B per element)
 * for 'mean', 1 for 'sum', with B the FULL batch (a thread's slice of the batch passes the same w,
 * so the slices' losses and gradients add up to the whole batch's); grad written whole.
 * Per-example sums and the aggregate in float64, in order b = 0..B-1 (then u); the gradient is
 * rounded to float32 once.
 */
EXPORT(loss) int loss(const float* pred, const float* targets, float* grad, float* loss_out, int U, int B, int kind, int fused, int index_targets, double w) {
  if (U < 1 || B < 1 || kind < 0 || kind >= LOSS_COUNT || (fused && kind != LOSS_CATEGORICAL_CROSSENTROPY)) return KERNEL_BAD_ARGS;
  /* the multiclass hinge compares the target with another class */
  if (kind == LOSS_MULTICLASS_HINGE && U < 2) return KERNEL_BAD_ARGS;
  if (index_targets)
    for (int b = 0; b < B; b++) {
      const float t = targets[b];
      if (!(t >= 0.0f && t < (float)U) || (float)(int)t != t) return KERNEL_BAD_TARGETS;
    }
#define TARGET(u, b) (index_targets ? ((int)targets[b] == (u) ? 1.0 : 0.0) : (double)targets[(size_t)(u) * B + (b)])
  double sum = 0.0;
  if (kind == LOSS_CATEGORICAL_CROSSENTROPY && fused) {
    for (int b = 0; b < B; b++) {
      double m = pred[b];
      for (int u = 1; u < U; u++) m = fmax(m, (double)pred[(size_t)u * B + b]);
      double s = 0.0;
      for (int u = 0; u < U; u++) s += exp((double)pred[(size_t)u * B + b] - m);
      const double lse = m + log(s);
      for (int u = 0; u < U; u++) {
        const size_t i = (size_t)u * B + b;
        const double t = TARGET(u, b);
        if (t != 0.0) sum -= t * ((double)pred[i] - lse);
        grad[i] = (float)(w * (exp((double)pred[i] - m) / s - t));
      }
    }
  } else if (kind == LOSS_MULTICLASS_HINGE) {
    for (int b = 0; b < B; b++) {
      int target = 0;
      if (index_targets) target = (int)targets[b];
      else
        for (int u = 1; u < U; u++)
          if (targets[(size_t)u * B + b] > targets[(size_t)target * B + b]) target = u;
      int best = -1;
      for (int u = 0; u < U; u++)
        if (u != target && (best < 0 || pred[(size_t)u * B + b] > pred[(size_t)best * B + b])) best = u;
      for (int u = 0; u < U; u++) grad[(size_t)u * B + b] = 0.0f;
      const double l = fmax(0.0, (double)pred[(size_t)best * B + b] - (double)pred[(size_t)target * B + b] + 1.0);
      sum += l;
      if (l > 0.0) {
        grad[(size_t)best * B + b] = (float)w;
        grad[(size_t)target * B + b] = (float)-w;
      }
    }
  } else {
    for (int u = 0; u < U; u++)
      for (int b = 0; b < B; b++) {
        const size_t i = (size_t)u * B + b;
        const double p = pred[i], t = TARGET(u, b);
        double g;
        switch (kind) {
          case LOSS_CATEGORICAL_CROSSENTROPY:
            if (t != 0.0) sum -= t * log(p);
            g = -w * t / p;
            break;
          case LOSS_BINARY_CROSSENTROPY:
            sum += -t * log(p) - (1.0 - t) * log(1.0 - p);
            g = w * (p - t) / (p * (1.0 - p));
            break;
          case LOSS_SQUARED_ERROR:
            sum += (p - t) * (p - t);
            g = 2.0 * w * (p - t);
            break;
          default: { /* LOSS_BINARY_HINGE */
            const double s = 2.0 * t - 1.0;
            const double l = fmax(0.0, 1.0 - p * s);
            sum += l;
            g = l > 0.0 ? -w * s : 0.0;
          }
        }
        grad[i] = (float)g;
      }
  }
#undef TARGET
  *loss_out = (float)(w * sum);
  return KERNEL_OK;
}

/*
 * penalty: *loss_out += l2 sum w^2 + l1 sum |w| (float64 in element order, added once);
 * grad[i] += 2 l2 w[i] + l1 sign(w[i]) (sign(0) = 0; float32).
 */
EXPORT(penalty) int penalty(const float* w, float* grad, float* loss_out, int n, float l1, float l2) {
  if (n < 0) return KERNEL_BAD_ARGS;
  double sq = 0.0, ab = 0.0;
  for (int i = 0; i < n; i++) {
    const double v = w[i];
    sq += v * v;
    ab += fabs(v);
  }
  *loss_out = (float)((double)*loss_out + ((double)l2 * sq + (double)l1 * ab));
  const float two_l2 = 2.0f * l2;
  for (int i = 0; i < n; i++) {
    const float v = w[i];
    const float sign = v > 0.0f ? 1.0f : (v < 0.0f ? -1.0f : 0.0f);
    grad[i] = grad[i] + (two_l2 * v + l1 * sign);
  }
  return KERNEL_OK;
}

/* Update rules, in the order of src/backend/wasm/training.ts UPDATE_CODES. */
enum {
  RULE_SGD = 0,
  RULE_MOMENTUM = 1,
  RULE_NESTEROV = 2,
  RULE_ADAGRAD = 3,
  RULE_RMSPROP = 4,
  RULE_ADADELTA = 5,
  RULE_ADAM = 6,
  RULE_ADAMAX = 7,
  RULE_COUNT = 8
};

/*
 * update_param: one parameter's update, Lasagne's formulas (src/ops/training.ts UpdateStep), float32,
 * elementwise over n; s0, s1 the rule's state tensors (0 where it keeps fewer). `lr` is the run's
 * updateScalar (bias-corrected for adam and adamax). c_rho, c_beta1, c_beta2 are 1 - rho, 1 - beta1,
 * 1 - beta2 computed in float64 by the caller: 1 - float32(0.999) would be off by 1.3e-5 relative. One plain loop per rule: -O3 -msimd128 turns
 * each into f32x4 code (sqrt, div and max included).
 */
EXPORT(update_param)
int update_param(float* restrict p, const float* restrict g, float* restrict s0, float* restrict s1, int n, int rule, float lr,
                 float momentum, float rho, float beta1, float beta2, float eps, float c_rho, float c_beta1, float c_beta2) {
  if (n < 0 || rule < 0 || rule >= RULE_COUNT) return KERNEL_BAD_ARGS;
  switch (rule) {
    case RULE_SGD:
      for (int i = 0; i < n; i++) p[i] -= lr * g[i];
      break;
    case RULE_MOMENTUM:
      for (int i = 0; i < n; i++) {
        const float v = momentum * s0[i] - lr * g[i];
        s0[i] = v;
        p[i] += v;
      }
      break;
    case RULE_NESTEROV:
      for (int i = 0; i < n; i++) {
        const float step = lr * g[i];
        const float v = momentum * s0[i] - step;
        s0[i] = v;
        p[i] += momentum * v - step;
      }
      break;
    case RULE_ADAGRAD:
      for (int i = 0; i < n; i++) {
        const float a = s0[i] + g[i] * g[i];
        s0[i] = a;
        p[i] -= lr * g[i] / sqrtf(a + eps);
      }
      break;
    case RULE_RMSPROP:
      for (int i = 0; i < n; i++) {
        const float a = rho * s0[i] + c_rho * g[i] * g[i];
        s0[i] = a;
        p[i] -= lr * g[i] / sqrtf(a + eps);
      }
      break;
    case RULE_ADADELTA:
      for (int i = 0; i < n; i++) {
        const float a = rho * s0[i] + c_rho * g[i] * g[i];
        const float u = g[i] * sqrtf(s1[i] + eps) / sqrtf(a + eps);
        s0[i] = a;
        p[i] -= lr * u;
        s1[i] = rho * s1[i] + c_rho * u * u;
      }
      break;
    case RULE_ADAM:
      for (int i = 0; i < n; i++) {
        const float m = beta1 * s0[i] + c_beta1 * g[i];
        const float v = beta2 * s1[i] + c_beta2 * g[i] * g[i];
        s0[i] = m;
        s1[i] = v;
        p[i] -= lr * m / (sqrtf(v) + eps);
      }
      break;
    default: /* RULE_ADAMAX */
      for (int i = 0; i < n; i++) {
        const float m = beta1 * s0[i] + c_beta1 * g[i];
        const float b = beta2 * s1[i];
        const float ag = fabsf(g[i]);
        const float u = b > ag ? b : ag;
        s0[i] = m;
        s1[i] = u;
        p[i] -= lr * m / (u + eps);
      }
  }
  return KERNEL_OK;
}
