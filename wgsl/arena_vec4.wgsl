// arena_vec4.wgsl: the arena as the GEMM kernels (filter_acts.wgsl, nin.wgsl) read and write it when
// every row of their tensors is a whole number of vec4s (N % 4 == 0, 16-byte aligned offsets): the
// host prepends this file or arena_scalar.wgsl, never both, so one kernel source serves both paths
// and a module binds the arena once. Same functions, same meaning, in both files.
//
// Bindings (group 0):
//   0  arena  storage, read_write  array<vec4<f32>>: all tensors of the bound range
// Overrides: none.

@group(0) @binding(0) var<storage, read_write> arena: array<vec4<f32>>;

// Columns one record of a kernel's column table covers: a vec4 of columns shares a position.
const COLS_PER_RECORD: u32 = 4u;

// Elements i .. i + 3 (i % 4 == 0); `count` (how many lie inside the row) is always 4 on this path.
fn load4(i: u32, count: u32) -> vec4<f32> {
  return arena[i / 4u];
}

fn store4(i: u32, v: vec4<f32>, count: u32) {
  arena[i / 4u] = v;
}

// x with record e (always 0 here: one record covers the 4 columns) set to r.
fn put_record(x: vec4<f32>, e: u32, r: vec4<f32>) -> vec4<f32> {
  return r;
}

// Element i (reads only: a store of one component may write the whole vector).
fn load1(i: u32) -> f32 {
  return arena[i / 4u][i % 4u];
}
