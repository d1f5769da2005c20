import {
  OK, E_BAD_PAD_MODE, E_EMPTY_OUTPUT, E_FILTER_NONPOSITIVE, E_STRIDE_NONPOSITIVE, E_SAME_EVEN_FILTER,
  E_FILTER_NOT_SQUARE, E_STRIDE_NOT_SQUARE, E_NUM_FILTERS, E_CHANNELS, E_CHANNELS_UNKNOWN,
  E_PAD_NOT_SQUARE, E_PAD_NEGATIVE, E_STRIDE_GT_FILTER, E_POOL_GT_IMAGE, E_POOL_PADDING,
  E_POOL_NONPOSITIVE, E_POOL_NOT_SQUARE, E_POOL_STRIDE_NONPOSITIVE, E_POOL_STRIDE_NOT_SQUARE,
  E_POOL_STRIDE_GT_POOL, E_POOL_IGNORE_BORDER,
} from './errors';
import { PAD_INT, PAD_VALID, PAD_FULL, PAD_SAME } from './padding';

// Lengths cross the boundary as i32: a positive length, or 0 for Lasagne's None (unknown).
// Errors are negative codes from errors.ts. Callers keep every length, pad, filter size and stride
// at most 2^28 (src/plan refuses larger), so sums like I + 2 pad cannot overflow i32.

/** Python's floor division for i32 (rounds toward negative infinity). */
function floorDiv(a: i32, b: i32): i32 {
  const q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/**
 * Lasagne conv_output_length (conv.py L23-87):
 *   valid: L = I - k + 1;  full: L = I + k - 1;  same: L = I;  int p: L = I + 2p - k + 1
 *   return ceil(L / s)
 * An input of 0 (None) gives 0 (None). A result <= 0 gives E_EMPTY_OUTPUT: Lasagne would return
 * the non-positive number and fail later; a network with an empty tensor can never run.
 */
export function convOutputLength(input: i32, k: i32, s: i32, mode: i32, pad: i32): i32 {
  if (k <= 0) return E_FILTER_NONPOSITIVE;
  if (s <= 0) return E_STRIDE_NONPOSITIVE;
  let l: i32;
  if (mode == PAD_VALID) l = input - k + 1;
  else if (mode == PAD_FULL) l = input + k - 1;
  else if (mode == PAD_SAME) l = input;
  else if (mode == PAD_INT) l = input + 2 * pad - k + 1;
  else return E_BAD_PAD_MODE;
  if (input == 0) return 0;
  const out = floorDiv(l + s - 1, s);
  return out <= 0 ? E_EMPTY_OUTPUT : out;
}

/**
 * Lasagne conv_input_length (conv.py L90-140): the input length that gives `output` outputs,
 *   (output - 1) * s - 2p + k  with p = 0 (valid), k - 1 (full), k // 2 (same) or the int pad.
 */
export function convInputLength(output: i32, k: i32, s: i32, mode: i32, pad: i32): i32 {
  if (k <= 0) return E_FILTER_NONPOSITIVE;
  if (s <= 0) return E_STRIDE_NONPOSITIVE;
  let p: i32;
  if (mode == PAD_VALID) p = 0;
  else if (mode == PAD_FULL) p = k - 1;
  else if (mode == PAD_SAME) p = k >> 1;
  else if (mode == PAD_INT) p = pad;
  else return E_BAD_PAD_MODE;
  if (output == 0) return 0;
  const i = <i64>(output - 1) * <i64>s - 2 * <i64>p + <i64>k;
  if (i > <i64>i32.MAX_VALUE) return E_EMPTY_OUTPUT;
  return i <= 0 ? E_EMPTY_OUTPUT : <i32>i;
}

/**
 * cuda-convnet's own (untruncated) module count along one axis (pylearn2 filter_acts.py L258-266):
 *   n = I + 2 pad - k;  count = n / s + (n % s > 0 ? 1 : 0) + 1   (= ceil(n / s) + 1 for n >= 0)
 * It is >= Lasagne's length, equal iff n % s == 0. `pad` is the resolved integer pad.
 */
export function convGridLength(input: i32, k: i32, s: i32, pad: i32): i32 {
  if (k <= 0) return E_FILTER_NONPOSITIVE;
  if (s <= 0) return E_STRIDE_NONPOSITIVE;
  if (pad < 0) return E_PAD_NEGATIVE;
  if (input == 0) return 0;
  const n = input + 2 * pad - k;
  if (n < 0) return E_EMPTY_OUTPUT;
  return n / s + (n % s > 0 ? 1 : 0) + 1;
}

/**
 * Lasagne pool_output_length (pool.py L23-75):
 *   ignore_border: L = I + 2 pad - P + 1;  return ceil(L / s)
 *   otherwise (pad must be 0): s >= P -> ceil(I / s);  else max(0, floor((I - P + s - 1) / s)) + 1
 * MaxPool2DCCLayer always uses pad = 0 and ignore_border = false.
 */
export function poolOutputLength(input: i32, p: i32, s: i32, pad: i32, ignoreBorder: i32): i32 {
  if (p <= 0) return E_POOL_NONPOSITIVE;
  if (s <= 0) return E_POOL_STRIDE_NONPOSITIVE;
  if (input == 0) return 0;
  let out: i32;
  if (ignoreBorder != 0) {
    out = floorDiv(input + 2 * pad - p + 1 + s - 1, s);
  } else {
    if (pad != 0) return E_POOL_PADDING;
    if (s >= p) out = floorDiv(input + s - 1, s);
    else {
      const m = floorDiv(input - p + s - 1, s);
      out = (m > 0 ? m : 0) + 1;
    }
  }
  return out <= 0 ? E_EMPTY_OUTPUT : out;
}

/**
 * Conv2DCCLayer's checks that come before its parameters are created (BaseConvLayer):
 * positive filter and stride, and 'same' padding only with odd filter sizes.
 */
export function checkConvEarly(kr: i32, kc: i32, sr: i32, sc: i32, mode: i32): i32 {
  if (kr <= 0 || kc <= 0) return E_FILTER_NONPOSITIVE;
  if (sr <= 0 || sc <= 0) return E_STRIDE_NONPOSITIVE;
  if (mode == PAD_SAME && ((kr & 1) == 0 || (kc & 1) == 0)) return E_SAME_EVEN_FILTER;
  if (mode < PAD_INT || mode > PAD_SAME) return E_BAD_PAD_MODE;
  return OK;
}

/**
 * Conv2DCCLayer's own checks, in Lasagne's order (cuda_convnet.py L236-264): square filters,
 * square strides, num_filters % 16, channels 1, 2, 3 or a multiple of 4 (0 = None is refused),
 * square padding, non-negative pad (pylearn2 BaseActs).
 */
export function checkConv(numFilters: i32, channels: i32, kr: i32, kc: i32, sr: i32, sc: i32, mode: i32, pr: i32, pc: i32): i32 {
  if (kr != kc) return E_FILTER_NOT_SQUARE;
  if (sr != sc) return E_STRIDE_NOT_SQUARE;
  if (numFilters % 16 != 0) return E_NUM_FILTERS;
  if (channels == 0) return E_CHANNELS_UNKNOWN;
  if (channels > 3 && channels % 4 != 0) return E_CHANNELS;
  if (mode == PAD_INT) {
    if (pr != pc) return E_PAD_NOT_SQUARE;
    if (pr < 0) return E_PAD_NEGATIVE;
  }
  return OK;
}

/** FilterActs' run-time check (filter_acts.py): stride must not exceed the filter size. */
export function checkConvRun(k: i32, s: i32): i32 {
  return s > k ? E_STRIDE_GT_FILTER : OK;
}

/**
 * MaxPool2DCCLayer's checks, in Lasagne's order (cuda_convnet.py L428-468) plus pylearn2's
 * `ds > 0`, `stride > 0` asserts: no padding, square regions, equal strides, stride <= pool size,
 * no ignore_border.
 */
export function checkPool(padR: i32, padC: i32, pr: i32, pc: i32, sr: i32, sc: i32, ignoreBorder: i32): i32 {
  if (padR != 0 || padC != 0) return E_POOL_PADDING;
  if (pr != pc) return E_POOL_NOT_SQUARE;
  if (pr <= 0) return E_POOL_NONPOSITIVE;
  if (sr != sc) return E_POOL_STRIDE_NOT_SQUARE;
  if (sr <= 0) return E_POOL_STRIDE_NONPOSITIVE;
  if (sr > pr) return E_POOL_STRIDE_GT_POOL;
  if (ignoreBorder != 0) return E_POOL_IGNORE_BORDER;
  return OK;
}

/**
 * MaxPool's run-time check (pool.py L238-243): the region must fit the image. Non-square images
 * are allowed here (a lifted limit of the CUDA kernel).
 */
export function checkPoolRun(p: i32, rows: i32, cols: i32): i32 {
  return p > rows || p > cols ? E_POOL_GT_IMAGE : OK;
}
