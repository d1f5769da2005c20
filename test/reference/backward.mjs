/**
 * Naive float64 oracles for the backward pass of every kernel op (the gradients of conv.mjs, pool.mjs
 * and layers.mjs), plain loops, independent of src/. All kernel-level functions are in c01b, batch
 * innermost, as the kernels compute. Checked against central finite differences of the forward
 * oracles by backward.test.mjs.
 *
 * Conventions (cuda-convnet FilterActs, filters (C, k, k, F) already flipped, pad p, stride s):
 *   z[f, oy, ox, b] = sum_{c,i,j} img[c, oy*s + i - p, ox*s + j - p, b] * w[c, i, j, f]
 * on Lasagne's grid (R, S) (the first R x S of cuda-convnet's untruncated grid; the truncated
 * modules' gradient is 0). With dz = d loss / d z:
 *   img_acts:    dimg[c, y, x, b] = sum_{f, i, j: y = oy*s + i - p, x = ox*s + j - p, oy < R, ox < S} w[c, i, j, f] dz[f, oy, ox, b]
 *   weight_acts: dw[c, i, j, f]   = sum_{oy < R, ox < S, b} img[c, oy*s + i - p, ox*s + j - p, b] dz[f, oy, ox, b]
 *                in partialSum groups: module m = oy * colsCC + ox of the UNTRUNCATED (rowsCC, colsCC)
 *                grid, group g = floor(m / P), partials (M/P, C, k, k, F) summed over g.
 */
import { transpose } from './array.mjs';
import { poolWindows } from './pool.mjs';

const f64 = (a) => ({ data: Float64Array.from(a.data), shape: [...a.shape] });

/** cuda-convnet's untruncated grid length ceil((I + 2p - k) / s) + 1. */
export function ccGrid(I, k, s, p) {
  return Math.ceil((I + 2 * p - k) / s) + 1;
}

/**
 * d phi / d x expressed through the OUTPUT y = phi(x), as the fused backward computes it (the
 * forward keeps only y). At a kink (x = 0 for rectify, leaky_rectify, elu, selu) it takes the
 * x <= 0 side, as y cannot tell x = 0 from x < 0: rectify' = 0, leaky' = leakiness there (Theano's
 * symbolic gradient gives the mean of both sides at exactly x = 0; that single point differs).
 * Sign conventions: leaky_rectify needs leakiness >= 0, selu scale > 0 and scaleNeg >= 0 (else the
 * branch cannot be read from y; the step builder refuses those).
 */
export function activationGrad(kind, params, y) {
  switch (kind) {
    case 'linear': return 1;
    case 'rectify': return y > 0 ? 1 : 0;
    case 'leaky_rectify': return y > 0 ? 1 : params[0];
    case 'sigmoid': return y * (1 - y);
    case 'tanh': return 1 - y * y;
    case 'scaled_tanh': {
      // y = tanh(a x) b: a b (1 - tanh^2) = a (b - y^2 / b); b = 0 gives y = 0 and derivative 0
      const [a, b] = params;
      if (b === 0) return 0;
      const t = y / b;
      return a * b * (1 - t * t);
    }
    case 'elu': return y > 0 ? 1 : y + 1;
    case 'selu': return y > 0 ? params[0] : y + params[0] * params[1];
    case 'softplus': return -Math.expm1(-y); // sigmoid(x) = 1 - e^{-softplus(x)}
    default: throw new Error(`oracle: no derivative for ${kind}`);
  }
}

/** dz = dy * phi'(y), elementwise on two arrays of the same shape. */
export function actGrad(kind, params, y, dy) {
  const out = new Float64Array(dy.data.length);
  for (let i = 0; i < out.length; i++) out[i] = dy.data[i] * activationGrad(kind, params, y.data[i]);
  return { data: out, shape: [...dy.shape] };
}

/** Input gradient of FilterActs: dz (F, R, S, B), filters (C, k, k, F) -> (C, H, W, B). */
export function imgActsC01b(dz, filters, pad, stride, H, W) {
  const [F, R, S, B] = dz.shape;
  const [C, k, , Ff] = filters.shape;
  if (F !== Ff) throw new Error('imgActsC01b: dz and filters disagree on F');
  const out = new Float64Array(C * H * W * B);
  for (let c = 0; c < C; c++)
    for (let oy = 0; oy < R; oy++)
      for (let ox = 0; ox < S; ox++)
        for (let i = 0; i < k; i++) {
          const y = oy * stride + i - pad;
          if (y < 0 || y >= H) continue;
          for (let j = 0; j < k; j++) {
            const x = ox * stride + j - pad;
            if (x < 0 || x >= W) continue;
            for (let f = 0; f < F; f++) {
              const w = filters.data[((c * k + i) * k + j) * F + f];
              for (let b = 0; b < B; b++) out[((c * H + y) * W + x) * B + b] += w * dz.data[((f * R + oy) * S + ox) * B + b];
            }
          }
        }
  return { data: out, shape: [C, H, W, B] };
}

/**
 * Weight gradient of FilterActs with cuda-convnet's partial sums: img (C, H, W, B), dz (F, R, S, B)
 * on Lasagne's grid, k, pad, stride, partialSum (0 = all modules). Returns { dw (C, k, k, F),
 * partials (G, C, k, k, F) or null when P = M, P, M, G }. An illegal P throws pylearn2's message.
 */
export function weightActsC01b(img, dz, k, pad, stride, partialSum = 0) {
  const [C, H, W, B] = img.shape;
  const [F, R, S] = dz.shape;
  const rowsCC = ccGrid(H, k, stride, pad);
  const colsCC = ccGrid(W, k, stride, pad);
  if (R > rowsCC || S > colsCC) throw new Error('weightActsC01b: dz is larger than the module grid');
  const M = rowsCC * colsCC;
  const P = partialSum > 0 ? partialSum : M;
  if (M % P !== 0) throw new Error(`partialSum must divide numModules, but partialSum=${partialSum} and numModules=${M}`);
  const G = M / P;
  const K = C * k * k * F;
  const partials = new Float64Array(G * K);
  for (let m = 0; m < M; m++) {
    const oy = Math.floor(m / colsCC);
    const ox = m % colsCC;
    if (oy >= R || ox >= S) continue; // truncated by Lasagne: dz is 0 there
    const g = Math.floor(m / P);
    for (let c = 0; c < C; c++)
      for (let i = 0; i < k; i++) {
        const y = oy * stride + i - pad;
        if (y < 0 || y >= H) continue;
        for (let j = 0; j < k; j++) {
          const x = ox * stride + j - pad;
          if (x < 0 || x >= W) continue;
          for (let f = 0; f < F; f++) {
            let acc = 0;
            for (let b = 0; b < B; b++) acc += img.data[((c * H + y) * W + x) * B + b] * dz.data[((f * R + oy) * S + ox) * B + b];
            partials[g * K + ((c * k + i) * k + j) * F + f] += acc;
          }
        }
      }
  }
  const dw = new Float64Array(K);
  for (let g = 0; g < G; g++) for (let e = 0; e < K; e++) dw[e] += partials[g * K + e];
  return { dw: { data: dw, shape: [C, k, k, F] }, partials: G > 1 ? { data: partials, shape: [G, C, k, k, F] } : null, P, M, G };
}

/**
 * Bias gradient of a (F, positions..., B) output gradient: tied db[f] = sum over positions and
 * batch; untied db[f, positions...] = sum over the batch.
 */
export function biasGrad(dz, mode) {
  const F = dz.shape[0];
  const B = dz.shape[dz.shape.length - 1];
  const P = dz.data.length / (F * B);
  if (mode === 'tied') {
    const out = new Float64Array(F);
    for (let f = 0; f < F; f++) for (let n = 0; n < P * B; n++) out[f] += dz.data[f * P * B + n];
    return { data: out, shape: [F] };
  }
  const out = new Float64Array(F * P);
  for (let e = 0; e < F * P; e++) for (let b = 0; b < B; b++) out[e] += dz.data[e * B + b];
  return { data: out, shape: dz.shape.slice(0, -1) };
}

/**
 * Gradient of cuda-convnet's MaxPool (MaxPoolGrad, kLocalMaxUndo) with partial windows: x c01b
 * (C, H, W, B), dy (C, outH, outW, B). dx[p] = sum over the windows o containing p of
 * (x[p] == y[o]) dy[o]: every tied maximum receives the gradient.
 */
export function maxPoolGradC01b(x, dy, poolSize, stride) {
  const [C, H, W, B] = x.shape;
  const rows = poolWindows(H, poolSize, stride);
  const cols = poolWindows(W, poolSize, stride);
  const [, R, S] = dy.shape;
  if (R !== rows.length || S !== cols.length) throw new Error(`maxPoolGradC01b: dy is ${R}x${S}, the windows ${rows.length}x${cols.length}`);
  const dx = new Float64Array(x.data.length);
  const at = (c, y, xx, b) => ((c * H + y) * W + xx) * B + b;
  for (let c = 0; c < C; c++)
    for (let oy = 0; oy < R; oy++)
      for (let ox = 0; ox < S; ox++)
        for (let b = 0; b < B; b++) {
          let m = -Infinity;
          for (const y of rows[oy]) for (const xx of cols[ox]) m = Math.max(m, x.data[at(c, y, xx, b)]);
          const g = dy.data[((c * R + oy) * S + ox) * B + b];
          for (const y of rows[oy]) for (const xx of cols[ox]) if (x.data[at(c, y, xx, b)] === m) dx[at(c, y, xx, b)] += g;
        }
  return { data: dx, shape: [C, H, W, B] };
}

/** NINLayer_c01b gradients: x (C, ...), w (U, C), dz (U, ...) -> { dx (C, ...), dw (U, C) }. */
export function ninGrad(x, w, dz) {
  const [U, C] = w.shape;
  const N = x.data.length / C;
  const dx = new Float64Array(C * N);
  const dw = new Float64Array(U * C);
  for (let u = 0; u < U; u++)
    for (let c = 0; c < C; c++) {
      const wv = w.data[u * C + c];
      let acc = 0;
      for (let n = 0; n < N; n++) {
        dx[c * N + n] += wv * dz.data[u * N + n];
        acc += dz.data[u * N + n] * x.data[c * N + n];
      }
      dw[u * C + c] = acc;
    }
  return { dx: { data: dx, shape: [...x.shape] }, dw: { data: dw, shape: [U, C] } };
}

/** The gradient of np.transpose(x, perm): dy transposed by the inverse permutation. */
export function transposeGrad(dy, perm) {
  const inv = new Array(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return transpose(f64(dy), inv);
}

/**
 * The kernel-layout (C, k, k, F) weight gradient mapped back onto the parameter as stored: (F, C, k, k)
 * ('fckk', dimshuffle true) or (C, k, k, F) ('ckkf'), unflipped when the layer flips (the inverse of
 * src/ops/weights.ts kernelWeights, which is a permutation, so its gradient is the inverse permutation).
 */
export function kernelGradToParam(dwK, layout, flip) {
  const [C, k, , F] = dwK.shape;
  const out = new Float64Array(dwK.data.length);
  for (let c = 0; c < C; c++)
    for (let i = 0; i < k; i++)
      for (let j = 0; j < k; j++) {
        const si = flip ? k - 1 - i : i;
        const sj = flip ? k - 1 - j : j;
        for (let f = 0; f < F; f++) {
          const v = dwK.data[((c * k + i) * k + j) * F + f];
          if (layout === 'fckk') out[((f * C + c) * k + si) * k + sj] = v;
          else out[((c * k + si) * k + sj) * F + f] = v;
        }
      }
  return { data: out, shape: layout === 'fckk' ? [F, C, k, k] : [C, k, k, F] };
}

/**
 * One layer's gradients from the oracle ops, for `input` and the upstream gradient `dy` (both in
 * the layer's own layouts), with `y` its forward output (layers.mjs layerForward). Returns
 * { dx, dW?, db? } in the layouts of the input and of the parameters as stored.
 */
export function layerBackward(layer, input, y, dy) {
  const name = layer.constructor.name;
  const x = f64(input);
  if (name === 'ShuffleBC01ToC01BLayer') return { dx: transposeGrad(dy, [1, 2, 3, 0]) };
  if (name === 'ShuffleC01BToBC01Layer') return { dx: transposeGrad(dy, [3, 0, 1, 2]) };
  if (name === 'MaxPool2DCCLayer') {
    const toC01b = (a) => (layer.dimshuffle ? transpose(f64(a), [1, 2, 3, 0]) : f64(a));
    const dx = maxPoolGradC01b(toC01b(x), toC01b(dy), layer.poolSize, layer.stride);
    return { dx: layer.dimshuffle ? transpose(dx, [3, 0, 1, 2]) : dx };
  }
  const { kind, params } = layer.nonlinearity;
  const mode = layer.b === null ? 'none' : layer.untieBiases ? 'untied' : 'tied';
  if (name === 'Conv2DCCLayer') {
    const toC01b = (a) => (layer.dimshuffle ? transpose(f64(a), [1, 2, 3, 0]) : f64(a));
    const dz = actGrad(kind, params, toC01b(y), toC01b(dy));
    const w = f64(layer.W.getValue());
    const layout = layer.dimshuffle ? 'fckk' : 'ckkf';
    // the forward's kernel weight: (C, k, k, F), flipped when the layer flips
    let wFckk = layout === 'fckk' ? w : transpose(w, [3, 0, 1, 2]);
    if (layer.flipFilters) {
      const [F, C, k] = wFckk.shape;
      const fl = new Float64Array(wFckk.data.length);
      for (let f = 0; f < F; f++)
        for (let c = 0; c < C; c++)
          for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) fl[((f * C + c) * k + i) * k + j] = wFckk.data[((f * C + c) * k + k - 1 - i) * k + k - 1 - j];
      wFckk = { data: fl, shape: wFckk.shape };
    }
    const wK = transpose(wFckk, [1, 2, 3, 0]);
    const xc = toC01b(x);
    const [, H, W] = xc.shape;
    const k = layer.filterSize[0];
    const dxc = imgActsC01b(dz, wK, layer.resolvedPad, layer.stride[0], H, W);
    const { dw } = weightActsC01b(xc, dz, k, layer.resolvedPad, layer.stride[0], 0);
    const out = { dx: layer.dimshuffle ? transpose(dxc, [3, 0, 1, 2]) : dxc, dW: kernelGradToParam(dw, layout, layer.flipFilters) };
    if (mode !== 'none') out.db = biasGrad(dz, mode);
    return out;
  }
  if (name === 'NINLayer_c01b') {
    const dz = actGrad(kind, params, y, dy);
    const { dx, dw } = ninGrad(x, f64(layer.W.getValue()), dz);
    const out = { dx, dW: dw };
    if (mode !== 'none') out.db = biasGrad(dz, mode);
    return out;
  }
  throw new Error(`oracle: no backward pass for ${name}`);
}

/**
 * Tolerance of a float32 dz = dy * act'(y) computed from a float32 y (and float32 params): each
 * formula's float32 roundings err by at most a few units u = 2^-24 of the magnitude of its terms
 * (termMagnitude), times |dy|, plus the product's rounding; expm1 (softplus) adds 1e-6 relative
 * for the float32 libm / WGSL functions.
 */
export function actGradTolerance(kind, params, y, dy) {
  const u = 2 ** -24;
  const g = activationGrad(kind, params, y);
  let mag;
  switch (kind) {
    case 'sigmoid': mag = Math.abs(y) + y * y; break;
    case 'tanh': mag = 1 + y * y; break;
    case 'scaled_tanh': mag = params[1] === 0 ? 0 : Math.abs(params[0] * params[1]) * (1 + (y / params[1]) ** 2); break;
    case 'elu': mag = Math.abs(y) + 1; break;
    case 'selu': mag = Math.abs(y) + Math.abs(params[0] * params[1]) + Math.abs(params[0]); break;
    default: mag = Math.abs(g);
  }
  return Math.abs(dy) * 8 * u * mag + 1e-6 * Math.abs(dy * g) + 1e-30;
}
