// Hand-written kernel steps for the backend suites (the shapes src/ops/steps.ts defines).

/** A conv's output length along an axis of I (filter k, stride s, pad p): floor((I + 2p - k) / s) + 1. */
export const convLen = (I, k, s, p) => Math.ceil((I + 2 * p - k + 1) / s);

/**
 * A filter_acts step over tensors `input` -> `output` (defaults 0 and 1): C, H, W, B, F, k, s (1),
 * pad (0); weight (0) in `weightLayout` (ckkf), flipFilters (false), bias (-1) and biasMode (none),
 * nonlinearity (linear), index (0) and layer ('conv') where given.
 */
export function convStep(o) {
  const { C, H, W, B, F, k, s = 1, pad = 0 } = o;
  return {
    op: 'filter_acts', index: o.index ?? 0, layer: o.layer ?? 'conv', input: o.input ?? 0, output: o.output ?? 1,
    weight: o.weight ?? 0, weightLayout: o.weightLayout ?? 'ckkf', flipFilters: o.flipFilters ?? false,
    bias: o.bias ?? -1, biasMode: o.biasMode ?? 'none', nonlinearity: o.nonlinearity ?? { kind: 'linear', params: [] },
    channels: C, rows: H, cols: W, batch: B, filters: F, filterSize: k, stride: s, pad,
    outRows: convLen(H, k, s, pad), outCols: convLen(W, k, s, pad),
  };
}
