/**
 * Float64 oracles of the training ops of src/ops/training.ts (plain loops, independent of src/):
 * the extra forward ops (activation, softmax, dropout, global_pool), the loss with its gradient,
 * the penalty, the update rules and the conv weight's kernel form. Arrays are flat (Float64Array or
 * plain arrays) in the steps' layouts: (U, B) batch last, (C, P, B) for global pooling.
 * checked against finite differences / closed forms by test/reference/training_ops.test.mjs.
 */
import { nonlinearity } from './layers.mjs';
import { activationGrad } from './backward.mjs';

const f64 = (a) => Float64Array.from(a);

/** out[i] = act(x[i]). */
export function activationRef(kind, params, x) {
  return Float64Array.from(x, (v) => nonlinearity(kind, params, v));
}

/** d/dx of activationRef, from the output y (the fused backward's convention). */
export function activationGradRef(kind, params, y, dy) {
  return Float64Array.from(y, (v, i) => activationGrad(kind, params, v) * dy[i]);
}

/** Softmax over u of (U, B) batch-last x. */
export function softmaxRef(x, U, B) {
  const out = new Float64Array(U * B);
  for (let b = 0; b < B; b++) {
    let m = -Infinity;
    for (let u = 0; u < U; u++) m = Math.max(m, x[u * B + b]);
    let s = 0;
    for (let u = 0; u < U; u++) s += Math.exp(x[u * B + b] - m);
    for (let u = 0; u < U; u++) out[u * B + b] = Math.exp(x[u * B + b] - m) / s;
  }
  return out;
}

/** dz = p (g - sum_v g p). */
export function softmaxGradRef(p, g, U, B) {
  const out = new Float64Array(U * B);
  for (let b = 0; b < B; b++) {
    let s = 0;
    for (let u = 0; u < U; u++) s += g[u * B + b] * p[u * B + b];
    for (let u = 0; u < U; u++) out[u * B + b] = p[u * B + b] * (g[u * B + b] - s);
  }
  return out;
}

function mix(x) {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** The keep mask of a dropout step (see DropoutStep), written independently of src/. */
export function dropoutMaskRef(count, seed, threshold, counter) {
  const key = mix((seed + Math.imul(counter, 0x9e3779b9)) >>> 0);
  return Uint8Array.from({ length: count }, (_, i) => (mix((i ^ key) >>> 0) >>> 8 >= threshold ? 1 : 0));
}

export function dropoutRef(x, seed, threshold, scale, counter) {
  const keep = dropoutMaskRef(x.length, seed, threshold, counter);
  return Float64Array.from(x, (v, i) => (keep[i] ? v * scale : 0));
}

/** (C, P, B) -> (C, B) mean over P. */
export function globalPoolRef(x, C, P, B) {
  const out = new Float64Array(C * B);
  for (let c = 0; c < C; c++) for (let b = 0; b < B; b++) {
    let s = 0;
    for (let p = 0; p < P; p++) s += x[(c * P + p) * B + b];
    out[c * B + b] = s / P;
  }
  return out;
}

export function globalPoolGradRef(dy, C, P, B) {
  const out = new Float64Array(C * P * B);
  for (let c = 0; c < C; c++) for (let p = 0; p < P; p++) for (let b = 0; b < B; b++) out[(c * P + p) * B + b] = dy[c * B + b] / P;
  return out;
}

/** Dense (U, B) targets from index targets (B). */
export function oneHot(indices, U, B) {
  const t = new Float64Array(U * B);
  for (let b = 0; b < B; b++) t[indices[b] * B + b] = 1;
  return t;
}

/**
 * The loss step: { loss, grad } in float64 (see LossStep for the formulas). `pred` (U, B) holds the
 * logits when fusedSoftmax. `targets`: (B) indices ('index') or (U, B) ('dense').
 */
export function lossRef({ kind, fusedSoftmax = false, targetForm = 'dense', aggregate = 'mean' }, pred, targets, U, B) {
  const t = targetForm === 'index' ? oneHot(targets, U, B) : f64(targets);
  const grad = new Float64Array(U * B);
  let sum = 0;
  const perExample = kind === 'categorical_crossentropy' || kind === 'multiclass_hinge';
  const w = aggregate === 'sum' ? 1 : 1 / (perExample ? B : U * B);
  if (kind === 'categorical_crossentropy' && fusedSoftmax) {
    const p = softmaxRef(pred, U, B);
    for (let b = 0; b < B; b++) {
      let m = -Infinity;
      for (let u = 0; u < U; u++) m = Math.max(m, pred[u * B + b]);
      let s = 0;
      for (let u = 0; u < U; u++) s += Math.exp(pred[u * B + b] - m);
      const lse = m + Math.log(s);
      for (let u = 0; u < U; u++) {
        sum -= t[u * B + b] * (pred[u * B + b] - lse);
        grad[u * B + b] = w * (p[u * B + b] - t[u * B + b]);
      }
    }
  } else if (kind === 'categorical_crossentropy') {
    for (let i = 0; i < U * B; i++) {
      if (t[i] !== 0) sum -= t[i] * Math.log(pred[i]);
      grad[i] = -w * t[i] / pred[i];
    }
  } else if (kind === 'binary_crossentropy') {
    for (let i = 0; i < U * B; i++) {
      const p = pred[i];
      sum += -t[i] * Math.log(p) - (1 - t[i]) * Math.log(1 - p);
      grad[i] = (w * (p - t[i])) / (p * (1 - p));
    }
  } else if (kind === 'squared_error') {
    for (let i = 0; i < U * B; i++) {
      sum += (pred[i] - t[i]) ** 2;
      grad[i] = 2 * w * (pred[i] - t[i]);
    }
  } else if (kind === 'binary_hinge') {
    for (let i = 0; i < U * B; i++) {
      const s = 2 * t[i] - 1;
      const l = Math.max(0, 1 - pred[i] * s);
      sum += l;
      grad[i] = l > 0 ? -w * s : 0;
    }
  } else if (kind === 'multiclass_hinge') {
    for (let b = 0; b < B; b++) {
      let target = 0;
      for (let u = 0; u < U; u++) if (t[u * B + b] > t[target * B + b]) target = u;
      let best = -1;
      for (let u = 0; u < U; u++) if (u !== target && (best < 0 || pred[u * B + b] > pred[best * B + b])) best = u;
      const l = Math.max(0, pred[best * B + b] - pred[target * B + b] + 1);
      sum += l;
      if (l > 0) {
        grad[best * B + b] += w;
        grad[target * B + b] -= w;
      }
    }
  } else throw new Error(`unknown loss ${kind}`);
  return { loss: w * sum, grad };
}

/** The penalty step: returns { penalty, grad } with grad = g + 2 l2 w + l1 sign(w). */
export function penaltyRef(w, g, l1, l2) {
  let penalty = 0;
  const grad = Float64Array.from(g, (v, i) => v + 2 * l2 * w[i] + l1 * Math.sign(w[i]));
  for (const v of w) penalty += l2 * v * v + l1 * Math.abs(v);
  return { penalty, grad };
}

/** Lasagne's defaults of each rule (lasagne/updates.py). */
export const UPDATE_DEFAULTS = {
  sgd: {},
  momentum: { momentum: 0.9 },
  nesterov_momentum: { momentum: 0.9 },
  adagrad: { learningRate: 1.0, epsilon: 1e-6 },
  rmsprop: { learningRate: 1.0, rho: 0.9, epsilon: 1e-6 },
  adadelta: { learningRate: 1.0, rho: 0.95, epsilon: 1e-6 },
  adam: { learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 },
  adamax: { learningRate: 0.002, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 },
};

/**
 * One update of parameter p (in place, float64) with gradient g, state arrays (zero at the start),
 * options { learningRate, momentum, rho, beta1, beta2, epsilon } and step number t (1-based).
 */
export function updateRef(rule, p, g, state, o, t) {
  const lr = o.learningRate;
  for (let i = 0; i < p.length; i++) {
    const gi = g[i];
    switch (rule) {
      case 'sgd': p[i] -= lr * gi; break;
      case 'momentum': state[0][i] = o.momentum * state[0][i] - lr * gi; p[i] += state[0][i]; break;
      case 'nesterov_momentum': state[0][i] = o.momentum * state[0][i] - lr * gi; p[i] += o.momentum * state[0][i] - lr * gi; break;
      case 'adagrad': state[0][i] += gi * gi; p[i] -= (lr * gi) / Math.sqrt(state[0][i] + o.epsilon); break;
      case 'rmsprop':
        state[0][i] = o.rho * state[0][i] + (1 - o.rho) * gi * gi;
        p[i] -= (lr * gi) / Math.sqrt(state[0][i] + o.epsilon);
        break;
      case 'adadelta': {
        state[0][i] = o.rho * state[0][i] + (1 - o.rho) * gi * gi;
        const u = (gi * Math.sqrt(state[1][i] + o.epsilon)) / Math.sqrt(state[0][i] + o.epsilon);
        p[i] -= lr * u;
        state[1][i] = o.rho * state[1][i] + (1 - o.rho) * u * u;
        break;
      }
      case 'adam': {
        const a = (lr * Math.sqrt(1 - o.beta2 ** t)) / (1 - o.beta1 ** t);
        state[0][i] = o.beta1 * state[0][i] + (1 - o.beta1) * gi;
        state[1][i] = o.beta2 * state[1][i] + (1 - o.beta2) * gi * gi;
        p[i] -= (a * state[0][i]) / (Math.sqrt(state[1][i]) + o.epsilon);
        break;
      }
      case 'adamax': {
        const a = lr / (1 - o.beta1 ** t);
        state[0][i] = o.beta1 * state[0][i] + (1 - o.beta1) * gi;
        state[1][i] = Math.max(o.beta2 * state[1][i], Math.abs(gi));
        p[i] -= (a * state[0][i]) / (state[1][i] + o.epsilon);
        break;
      }
      default: throw new Error(`unknown rule ${rule}`);
    }
  }
}

/** A conv weight's kernel form (C, k, k, F), flipped when asked, from (F, C, k, k) ('fckk') or (C, k, k, F) ('ckkf'). */
export function weightFormRef(w, layout, flip, C, k, F) {
  const out = new Float64Array(C * k * k * F);
  for (let c = 0; c < C; c++) for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) for (let f = 0; f < F; f++) {
    const si = flip ? k - 1 - i : i;
    const sj = flip ? k - 1 - j : j;
    out[((c * k + i) * k + j) * F + f] = layout === 'fckk' ? w[((f * C + c) * k + si) * k + sj] : w[((c * k + si) * k + sj) * F + f];
  }
  return out;
}
