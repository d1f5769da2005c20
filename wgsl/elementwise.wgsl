// elementwise.wgsl: the one-thread-per-element ops around the cuda-convnet layers (src/ops/training.ts):
// copy (FlattenLayer, ReshapeLayer: an exact copy), activation (NonlinearityLayer: epilogue.wgsl's
// activate(), any fused kind but softmax), dropout (DropoutLayer: inverted dropout with the counter
// hash of DropoutStep, u32 arithmetic), global_pool (GlobalPoolLayer: mean over positions) and its
// gradient, and weight_form (a conv weight from its parameter layout to the kernel layout
// (C, k, k, F), flipped when the layer flips: src/ops/weights.ts kernelWeights on the device).
// Compiled with the generated codes, epilogue.wgsl (override ACT) and weight_layout.wgsl prepended.
//
//   copy          out[i] = in[i]                                               i < count
//   activation    out[i] = act(in[i])                                          i < count
//   dropout       key = mix(seed + counter * 0x9E3779B9); keep(i) = (mix(i ^ key) >> 8) >= threshold;
//                 out[i] = keep(i) ? in[i] * scale : 0                         i < count
//   global_pool   out[c, b] = (sum_p in[c, p, b]) / P                          (C, P, B) -> (C, B), p ascending
//   global_pool_grad  out[c, p, b] = in[c, b] / P                              (C, B) -> (C, P, B)
//   weight_form   out[c, i, j, f] = w[f, c, si, sj] ('fckk', layout 0) or w[c, si, sj, f] ('ckkf', 1),
//                 (si, sj) = (k-1-i, k-1-j) when flip, else (i, j)
//
// Bindings (group 0):
//   0  arena   storage, read_write  array<f32>: input at params.in_off, output at params.out_off
//                                   (element offsets into the bound range; never overlapping)
//   1  params  uniform              Params
// Overrides: ACT (epilogue.wgsl; activation only).
// Geometry: workgroup 256; element i = (wg.x + wg.y * num_workgroups.x) * 256 + local index, one
//   per output element (params.count of them; flat.wgsl element()); the host splits the workgroup count over x and y.

struct Params {
  in_off: u32,
  out_off: u32,
  // output elements
  count: u32,
  // dropout: the layer's seed, round(p * 2^24), the run's counter (written by the host each run)
  seed: u32,
  threshold: u32,
  counter: u32,
  // global_pool(_grad): C, P, B; weight_form: C, k, F, layout (0 fckk, 1 ckkf), flip (0 | 1)
  channels: u32,
  positions: u32,
  batch: u32,
  filter_size: u32,
  filters: u32,
  src_layout: u32,
  flip: u32,
  pad0: u32,
  // activation: the nonlinearity's two parameters (epilogue.wgsl)
  act: vec2<f32>,
  // dropout: 1 / (1 - p) with rescale, else 1
  scale: f32,
}

@group(0) @binding(0) var<storage, read_write> arena: array<f32>;
@group(0) @binding(1) var<uniform> params: Params;

// DropoutStep's mix: x ^= x >> 16; x *= 0x7feb352d; x ^= x >> 15; x *= 0x846ca68b; x ^= x >> 16 (wrapping u32).
fn hash_mix(v: u32) -> u32 {
  var x = v;
  x ^= x >> 16u;
  x *= 0x7feb352du;
  x ^= x >> 15u;
  x *= 0x846ca68bu;
  x ^= x >> 16u;
  return x;
}

@compute @workgroup_size(FLAT)
fn copy(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i = element(wg, nwg, li);
  if (i < params.count) {
    arena[params.out_off + i] = arena[params.in_off + i];
  }
}

@compute @workgroup_size(FLAT)
fn activation(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i = element(wg, nwg, li);
  if (i < params.count) {
    arena[params.out_off + i] = activate(arena[params.in_off + i], params.act);
  }
}

@compute @workgroup_size(FLAT)
fn dropout(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i = element(wg, nwg, li);
  if (i < params.count) {
    let key = hash_mix(params.seed + params.counter * 0x9E3779B9u);
    var v = 0.0;
    if ((hash_mix(i ^ key) >> 8u) >= params.threshold) {
      v = arena[params.in_off + i] * params.scale;
    }
    arena[params.out_off + i] = v;
  }
}

@compute @workgroup_size(FLAT)
fn global_pool(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i = element(wg, nwg, li);
  if (i < params.count) {
    let B = params.batch;
    let P = params.positions;
    let c = i / B;
    let b = i - c * B;
    var s = 0.0;
    for (var p = 0u; p < P; p++) {
      s += arena[params.in_off + (c * P + p) * B + b];
    }
    arena[params.out_off + i] = s / f32(P);
  }
}

@compute @workgroup_size(FLAT)
fn global_pool_grad(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i = element(wg, nwg, li);
  if (i < params.count) {
    let B = params.batch;
    let P = params.positions;
    let c = i / (P * B);
    let b = i % B;
    arena[params.out_off + i] = arena[params.in_off + c * B + b] / f32(P);
  }
}

@compute @workgroup_size(FLAT)
fn weight_form(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let e = element(wg, nwg, li);
  if (e < params.count) {
    // (weight_layout.wgsl: e of the kernel layout, src of the parameter's)
    let src = param_index_of_kernel(e, params.channels, params.filter_size, params.filters, params.flip == 1u, params.src_layout == 0u);
    arena[params.out_off + e] = arena[params.in_off + src];
  }
}
