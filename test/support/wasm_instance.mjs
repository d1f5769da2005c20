// A fresh instance of the WASM kernels module (build/kernels.wasm) for the kernel tests, with a bump
// allocator over its memory (kernels_reserve): nothing is freed, each test takes a new instance.
import * as assert from 'uvu/assert';

/**
 * A new instance of `mod`: { k (its exports), alloc(n floats) -> byte pointer, put(array or
 * { data }) -> pointer of a copy, read(pointer, n) -> a Float32Array copy }.
 */
export function kernelsInstance(mod) {
  const k = new WebAssembly.Instance(mod, {}).exports;
  const alloc = (n) => {
    const p = k.kernels_reserve(Math.max(4 * n, 16), 16);
    assert.ok(p > 0, 'kernels_reserve');
    return p;
  };
  return {
    k,
    alloc,
    put(a) {
      const data = ArrayBuffer.isView(a) || Array.isArray(a) ? a : a.data;
      const p = alloc(data.length);
      new Float32Array(k.memory.buffer, p, data.length).set(data);
      return p;
    },
    read: (p, n) => new Float32Array(k.memory.buffer, p, n).slice(),
  };
}
