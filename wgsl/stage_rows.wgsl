// stage_rows.wgsl: the GEMM stage (gemm.wgsl) as one array per row of K, prepended before gemm.wgsl
// for filter_acts.wgsl, which indexes w_tile[kk][t] and x_tile[kk][t]. With a row an array of its
// own, the inner loop's robustness clamps (Dawn clamps every runtime index) are min(kk, K_CHUNK - 1),
// folded once the loop is unrolled, and min(thread's column, row - 1), hoisted out of the loop: flat
// arrays indexed kk * row + column cost filter_acts about 20% on an H100 (L2 16.5 -> 13.6 ms
// without robustness).
//
// Bindings: none. Overrides: K_CHUNK (gemm.wgsl). Host consts: W_ROW, X_ROW (vec4s per stage row).

// w_tile[kk][t] = w[k0 + kk, c0 + 4t .. c0 + 4t + 3]
var<workgroup> w_tile: array<array<vec4<f32>, W_ROW>, K_CHUNK>;
// x_tile[kk][t] = the inputs' row k0 + kk, columns n0 + 4t .. n0 + 4t + 3
var<workgroup> x_tile: array<array<vec4<f32>, X_ROW>, K_CHUNK>;

fn w_stage_put(t: u32, v: vec4<f32>) {
  w_tile[t / W_ROW][t % W_ROW] = v;
}

fn x_stage_put(t: u32, v: vec4<f32>) {
  x_tile[t / X_ROW][t % X_ROW] = v;
}
