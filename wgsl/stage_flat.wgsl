// stage_flat.wgsl: the GEMM stage (gemm.wgsl) as one flat array per operand, prepended before
// gemm.wgsl for nin.wgsl, which indexes w_tile[kk * W_ROW + t] and x_tile[kk * X_ROW + t]. For nin
// this layout is the faster one: on an NVIDIA H200 (N1, C 192 -> U 160, 32x32, batch 128; W_ROW 40,
// X_ROW 32; one process, a fresh device per variant, three rounds) 0.313-0.315 ms against 0.371-0.374
// ms with stage_rows.wgsl.
//
// Bindings: none. Overrides: K_CHUNK (gemm.wgsl). Host consts: W_ROW, X_ROW (vec4s per stage row).

// w_tile[kk * W_ROW + t] = w[k0 + kk, c0 + 4t .. c0 + 4t + 3]
var<workgroup> w_tile: array<vec4<f32>, W_ROW * K_CHUNK>;
// x_tile[kk * X_ROW + t] = the inputs' row k0 + kk, columns n0 + 4t .. n0 + 4t + 3
var<workgroup> x_tile: array<vec4<f32>, X_ROW * K_CHUNK>;

fn w_stage_put(t: u32, v: vec4<f32>) {
  w_tile[t] = v;
}

fn x_stage_put(t: u32, v: vec4<f32>) {
  x_tile[t] = v;
}
