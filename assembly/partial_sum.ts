import { OK, E_PARTIAL_SUM, E_PARTIAL_SUM_NEGATIVE, E_PARTIAL_SUM_TOO_LARGE, E_EMPTY_OUTPUT } from './errors';

// partial_sum of cuda-convnet's weight gradient (pylearn2 weight_acts.py L159-198, L306-382):
//   M = rows_cc * cols_cc  (the UNTRUNCATED module grid, see shape.ts convGridLength)
//   P = partial_sum if partial_sum > 0 else M        (0, Lasagne's 0/None, means M)
//   legal iff M % P == 0
//   scratch = 4 * (M / P) * C * k * k * F bytes, the per-group partial dW sums; none when P == M.

/** The effective P for a requested partial_sum (0 means M), or a negative error code. */
export function partialSumEffective(rowsCC: i32, colsCC: i32, partialSum: i32): i32 {
  if (rowsCC <= 0 || colsCC <= 0) return E_EMPTY_OUTPUT;
  if (partialSum < 0) return E_PARTIAL_SUM_NEGATIVE;
  const m = <i64>rowsCC * <i64>colsCC;
  const p = partialSum == 0 ? m : <i64>partialSum;
  if (p > <i64>i32.MAX_VALUE) return E_PARTIAL_SUM_TOO_LARGE;
  return m % p == 0 ? <i32>p : E_PARTIAL_SUM;
}

/** Bytes of float32 scratch the weight gradient needs for this partial_sum (f64: exact to 2^53). */
export function partialSumScratchBytes(rowsCC: i32, colsCC: i32, partialSum: i32, channels: i32, k: i32, numFilters: i32): f64 {
  const p = partialSumEffective(rowsCC, colsCC, partialSum);
  if (p < 0) return <f64>p;
  const m = <i64>rowsCC * <i64>colsCC;
  if (<i64>p == m) return 0;
  return 4.0 * <f64>(m / <i64>p) * <f64>channels * <f64>k * <f64>k * <f64>numFilters;
}

export { OK };
