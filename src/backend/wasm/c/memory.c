/*
 * The module's only allocator: a bump pointer above the linker's __heap_base that grows the linear
 * memory as needed. The glue (src/backend/wasm/engine.ts) reserves once per prepared network, from a
 * fresh instance: the planner's arena, then every parameter, then the kernels' scratch. Nothing is
 * ever freed one by one; disposing drops the whole instance.
 */
#include "common.h"

extern unsigned char __heap_base;

static uintptr_t heap_top;

/*
 * Reserves `bytes` (zeroed: fresh linear memory is zero and nothing is reused) at a multiple of
 * `align` (a power of two, at least 16) and returns its address, or 0 when the memory cannot grow.
 */
EXPORT(kernels_reserve) uint32_t kernels_reserve(uint32_t bytes, uint32_t align) {
  if (align < 16 || (align & (align - 1)) != 0) return 0;
  if (heap_top == 0) heap_top = (uintptr_t)&__heap_base;
  uint64_t start = ((uint64_t)heap_top + align - 1) & ~(uint64_t)(align - 1);
  uint64_t end = start + bytes;
  if (end > 0xFFFF0000ull) return 0;
  uint64_t pages_needed = (end + 65535) / 65536;
  uint64_t pages_have = __builtin_wasm_memory_size(0);
  if (pages_needed > pages_have && __builtin_wasm_memory_grow(0, pages_needed - pages_have) == (size_t)-1) return 0;
  heap_top = (uintptr_t)end;
  return (uint32_t)start;
}
