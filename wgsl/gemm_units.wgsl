// gemm_units.wgsl: the register tile and inner loop that nin.wgsl and winograd.wgsl's gemm share,
// prepended (after gemm.wgsl) to both. A thread computes RU groups of 4 units (rows of the output;
// nin's units, winograd's filters) by 4 consecutive columns: group g holds units
// u0 + 4 * (g * WG_U + ly) .. + 3. The RU groups' weights are the same for a warp's threads
// (broadcast), so a thread reads 1 + RU vec4s of workgroup memory per 16*RU FMAs.
//
// Bindings: none of its own. Overrides: WG_N, WG_U (workgroup size (WG_N, WG_U), WG_N * WG_U <= 256),
//   RU (1..5 groups of 4 units per thread); K_CHUNK (gemm.wgsl).
// The kernel defines: w_load (gemm.wgsl) and x_load(k0, n0, t) (input vec4 t of the stage at row k0,
//   columns from n0; 0 outside). The stage is stage_flat.wgsl's (w_tile, x_tile; W_ROW = RU * WG_U,
//   X_ROW = WG_N).

override WG_N: u32 = 16u;
override WG_U: u32 = 16u;
override RU: u32 = 1u;

// Four units x four columns: r<i> is unit u + i.
struct Acc {
  r0: vec4<f32>,
  r1: vec4<f32>,
  r2: vec4<f32>,
  r3: vec4<f32>,
}

// The thread's accumulators, group g (groups g >= RU unused).
var<private> a0: Acc;
var<private> a1: Acc;
var<private> a2: Acc;
var<private> a3: Acc;
var<private> a4: Acc;

fn fma4(a: Acc, w: vec4<f32>, x: vec4<f32>) -> Acc {
  return Acc(a.r0 + w.x * x, a.r1 + w.y * x, a.r2 + w.z * x, a.r3 + w.w * x);
}

fn threads() -> u32 {
  return WG_N * WG_U;
}

fn w_stage() -> u32 {
  return K_CHUNK * RU * WG_U;
}

fn x_stage() -> u32 {
  return K_CHUNK * WG_N;
}

fn x_fetch(k0: u32, n0: u32, tid: u32) -> Loads {
  var l: Loads;
  l.v0 = x_load(k0, n0, tid);
  if (x_stage() > threads()) {
    l.v1 = x_load(k0, n0, tid + threads());
  }
  if (x_stage() > 2u * threads()) {
    l.v2 = x_load(k0, n0, tid + 2u * threads());
  }
  if (x_stage() > 3u * threads()) {
    l.v3 = x_load(k0, n0, tid + 3u * threads());
  }
  return l;
}

fn accumulate(lx: u32, ly: u32) {
  for (var kk = 0u; kk < K_CHUNK; kk++) {
    let x = x_tile[kk * X_ROW + lx];
    a0 = fma4(a0, w_tile[kk * W_ROW + ly], x);
    if (RU > 1u) {
      a1 = fma4(a1, w_tile[kk * W_ROW + ly + WG_U], x);
    }
    if (RU > 2u) {
      a2 = fma4(a2, w_tile[kk * W_ROW + ly + 2u * WG_U], x);
    }
    if (RU > 3u) {
      a3 = fma4(a3, w_tile[kk * W_ROW + ly + 3u * WG_U], x);
    }
    if (RU > 4u) {
      a4 = fma4(a4, w_tile[kk * W_ROW + ly + 4u * WG_U], x);
    }
  }
}

fn clear_acc() {
  let z = Acc(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
  a0 = z;
  a1 = z;
  a2 = z;
  a3 = z;
  a4 = z;
}
