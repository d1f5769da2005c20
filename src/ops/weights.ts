import type { NDArray } from '../ndarray.js';
import type { FilterActsStep } from './steps.js';
import { filterWeightElements } from './steps.js';

/**
 * The conv weight in kernel layout (C, k, k, F), flipped in both spatial axes when the layer has
 * flipFilters, from the parameter as stored ((F, C, k, k) for dimshuffle true, (C, k, k, F) for
 * false). Both backends upload this, so the kernels only ever compute the correlation.
 */
export function kernelWeights(step: Pick<FilterActsStep, 'weightLayout' | 'flipFilters' | 'channels' | 'filterSize' | 'filters'>, w: NDArray): Float32Array {
  const { channels: C, filterSize: k, filters: F } = step;
  const out = new Float32Array(filterWeightElements(step));
  const src = w.data;
  for (let c = 0; c < C; c++) {
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) {
        const si = step.flipFilters ? k - 1 - i : i;
        const sj = step.flipFilters ? k - 1 - j : j;
        for (let f = 0; f < F; f++) {
          out[((c * k + i) * k + j) * F + f] =
            step.weightLayout === 'fckk' ? src[((f * C + c) * k + si) * k + sj] : src[((c * k + si) * k + sj) * F + f];
        }
      }
    }
  }
  return out;
}

/** A NIN or dense weight in the (U, C) form the kernels read: as stored for 'uc', transposed from (C, U) for 'cu'. */
export function ninWeights(units: number, channels: number, layout: 'uc' | 'cu' | undefined, w: NDArray): Float32Array {
  if (layout !== 'cu') return Float32Array.from(w.data);
  const out = new Float32Array(units * channels);
  for (let c = 0; c < channels; c++) for (let u = 0; u < units; u++) out[u * channels + c] = w.data[c * units + u];
  return out;
}
