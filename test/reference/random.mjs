/**
 * A tiny seeded generator for test inputs (mulberry32), independent of the package's RandomState so
 * the oracles never share code with what they check.
 */

/** mulberry32: a function returning uniform floats in [0, 1), the same sequence for the same seed. */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return function next() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function size(shape) {
  return shape.reduce((n, d) => n * d, 1);
}

/** np.random.random(shape) analogue: uniform in [low, high), as { data: Float64Array, shape }. */
export function uniform(shape, seed, low = 0, high = 1) {
  const next = mulberry32(seed);
  const data = new Float64Array(size(shape));
  for (let i = 0; i < data.length; i++) data[i] = low + (high - low) * next();
  return { data, shape: [...shape] };
}

/** np.random.randn(shape) analogue (Box-Muller), as { data: Float64Array, shape }. */
export function randn(shape, seed) {
  const next = mulberry32(seed);
  const data = new Float64Array(size(shape));
  for (let i = 0; i < data.length; i += 2) {
    const u = 1 - next();
    const v = next();
    const r = Math.sqrt(-2 * Math.log(u));
    data[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < data.length) data[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return { data, shape: [...shape] };
}

/** The same values rounded to float32, as the package's NDArray { data: Float32Array, shape }. */
export function toFloat32(a) {
  return { data: Float32Array.from(a.data), shape: [...a.shape] };
}
