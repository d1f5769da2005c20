// gemm.wgsl: the staged GEMM core that filter_acts.wgsl and nin.wgsl share, prepended to both: a
// thread's share of one stage's global loads held in registers (software pipelining: the loads of
// chunk i+1 are issued before chunk i is multiplied), and the code that fetches the weights and puts
// both operands into the stage. The stage itself (w_tile, x_tile in workgroup memory and
// w_stage_put / x_stage_put) comes from stage_rows.wgsl or stage_flat.wgsl, prepended before this
// file: each kernel takes the layout measured fastest for it.
//
// Bindings: none of its own (w_load, which the kernel defines, reads the weights).
// Overrides: K_CHUNK (rows of K per stage), declared here for both kernels.
// The kernel defines: threads() (invocations per workgroup), w_stage() and x_stage() (vec4s of
//   weights and of inputs per stage, each at most 4 * threads(): a thread loads at most 4 of each),
//   and w_load(k0, c0, t, k_stop) (weight vec4 t of the stage at row k0, columns from c0; 0 outside).
// Host consts (pipelines.ts Defines): W_ROW and X_ROW, the vec4s in a stage row of weights and of
//   inputs.

override K_CHUNK: u32 = 16u;

// A thread's share of one chunk's global loads, held in registers between load and store.
struct Loads {
  v0: vec4<f32>, v1: vec4<f32>, v2: vec4<f32>, v3: vec4<f32>,
}

fn w_fetch(k0: u32, c0: u32, tid: u32, k_stop: u32) -> Loads {
  var l: Loads;
  l.v0 = w_load(k0, c0, tid, k_stop);
  if (w_stage() > threads()) {
    l.v1 = w_load(k0, c0, tid + threads(), k_stop);
  }
  if (w_stage() > 2u * threads()) {
    l.v2 = w_load(k0, c0, tid + 2u * threads(), k_stop);
  }
  if (w_stage() > 3u * threads()) {
    l.v3 = w_load(k0, c0, tid + 3u * threads(), k_stop);
  }
  return l;
}

fn w_put(l: Loads, tid: u32) {
  if (tid < w_stage()) {
    w_stage_put(tid, l.v0);
  }
  if (tid + threads() < w_stage()) {
    w_stage_put(tid + threads(), l.v1);
  }
  if (tid + 2u * threads() < w_stage()) {
    w_stage_put(tid + 2u * threads(), l.v2);
  }
  if (tid + 3u * threads() < w_stage()) {
    w_stage_put(tid + 3u * threads(), l.v3);
  }
}

fn x_put(l: Loads, tid: u32) {
  if (tid < x_stage()) {
    x_stage_put(tid, l.v0);
  }
  if (tid + threads() < x_stage()) {
    x_stage_put(tid + threads(), l.v1);
  }
  if (tid + 2u * threads() < x_stage()) {
    x_stage_put(tid + 2u * threads(), l.v2);
  }
  if (tid + 3u * threads() < x_stage()) {
    x_stage_put(tid + 3u * threads(), l.v3);
  }
}
