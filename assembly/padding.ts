import { OK, E_BAD_PAD_MODE, E_PAD_NEGATIVE } from './errors';

// Pad modes as passed across the boundary. PAD_INT carries its value in a separate argument.
export const PAD_INT: i32 = 0;
export const PAD_VALID: i32 = 1;
export const PAD_FULL: i32 = 2;
export const PAD_SAME: i32 = 3;

/**
 * The integer pad cuda-convnet uses for a filter of size k (Lasagne cuda_convnet.py L254-262):
 * 'valid' -> 0, 'same' -> k // 2, 'full' -> k - 1, int -> itself. Negative -> E_PAD_NEGATIVE.
 */
export function resolvePad(k: i32, mode: i32, pad: i32): i32 {
  if (mode == PAD_VALID) return 0;
  if (mode == PAD_SAME) return k >> 1;
  if (mode == PAD_FULL) return k - 1;
  if (mode == PAD_INT) return pad < 0 ? E_PAD_NEGATIVE : pad;
  return E_BAD_PAD_MODE;
}
