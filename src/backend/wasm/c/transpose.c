/*
 * transpose: the shuffle layers (Lasagne ShuffleBC01ToC01BLayer / ShuffleC01BToBC01Layer,
 * src/ops/steps.ts TransposeStep), an exact copy. Both 4-D permutations the planner emits are a
 * 2-D matrix transpose of a C-order (rows, cols) array into (cols, rows):
 *
 *   perm [1, 2, 3, 0] on (d0, d1, d2, d3): rows = d0,           cols = d1*d2*d3   (bc01 -> c01b)
 *   perm [3, 0, 1, 2] on (d0, d1, d2, d3): rows = d0*d1*d2,     cols = d3         (c01b -> bc01)
 *
 *   out[col * rows + row] = in[row * cols + col]
 *
 * Method: 32x32 blocks (both sides stay in L1), 4x4 register tiles transposed with shuffles,
 * scalar edges; a single row or column is a plain copy.
 */
#include <string.h>

#include "common.h"

#define BLOCK 32

EXPORT(transpose) int transpose(const float* in, float* out, int rows, int cols) {
  if (rows < 1 || cols < 1) return KERNEL_BAD_ARGS;
  if (rows == 1 || cols == 1) {
    memcpy(out, in, (size_t)rows * cols * 4);
    return KERNEL_OK;
  }
  for (int rb = 0; rb < rows; rb += BLOCK) {
    const int re = rows - rb < BLOCK ? rows : rb + BLOCK;
    for (int cb = 0; cb < cols; cb += BLOCK) {
      const int ce = cols - cb < BLOCK ? cols : cb + BLOCK;
      int r = rb;
      for (; r + 4 <= re; r += 4) {
        const float* s = in + (size_t)r * cols;
        int c = cb;
        for (; c + 4 <= ce; c += 4) {
          v128_t r0 = wasm_v128_load(s + c);
          v128_t r1 = wasm_v128_load(s + cols + c);
          v128_t r2 = wasm_v128_load(s + 2 * (size_t)cols + c);
          v128_t r3 = wasm_v128_load(s + 3 * (size_t)cols + c);
          TRANSPOSE4(r0, r1, r2, r3);
          float* d = out + (size_t)c * rows + r;
          wasm_v128_store(d, r0);
          wasm_v128_store(d + rows, r1);
          wasm_v128_store(d + 2 * (size_t)rows, r2);
          wasm_v128_store(d + 3 * (size_t)rows, r3);
        }
        for (; c < ce; c++)
          for (int t = 0; t < 4; t++) out[(size_t)c * rows + r + t] = in[(size_t)(r + t) * cols + c];
      }
      for (; r < re; r++)
        for (int c = cb; c < ce; c++) out[(size_t)c * rows + r] = in[(size_t)r * cols + c];
    }
  }
  return KERNEL_OK;
}
