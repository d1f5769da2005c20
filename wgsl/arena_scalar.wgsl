// arena_scalar.wgsl: the arena as the GEMM kernels (filter_acts.wgsl, nin.wgsl) read and write it for
// any N and any 4-byte aligned offsets, element by element: the counterpart of arena_vec4.wgsl (the
// host prepends one of the two). Same functions, same meaning, in both files.
//
// Bindings (group 0):
//   0  arena  storage, read_write  array<f32>: all tensors of the bound range
// Overrides: none.

@group(0) @binding(0) var<storage, read_write> arena: array<f32>;

// Columns one record of a kernel's column table covers: each column its own.
const COLS_PER_RECORD: u32 = 1u;

// Elements i .. i + count - 1 (count <= 4); the rest read as 0.
fn load4(i: u32, count: u32) -> vec4<f32> {
  var x = vec4<f32>(0.0);
  for (var e = 0u; e < 4u; e++) {
    if (e < count) {
      x[e] = arena[i + e];
    }
  }
  return x;
}

// Writes the first `count` (<= 4) lanes of v at i ...
fn store4(i: u32, v: vec4<f32>, count: u32) {
  for (var e = 0u; e < 4u; e++) {
    if (e < count) {
      arena[i + e] = v[e];
    }
  }
}

// x with lane e (record e: one column each) set to r.x.
fn put_record(x: vec4<f32>, e: u32, r: vec4<f32>) -> vec4<f32> {
  var y = x;
  y[e] = r.x;
  return y;
}

fn load1(i: u32) -> f32 {
  return arena[i];
}
