// weight_layout.wgsl: the one index map between a conv weight's kernel layout (C, k, k, F) and its
// parameter layout (src/ops/weights.ts kernelWeights), for elementwise.wgsl weight_form (parameter ->
// kernel) and weight_acts.wgsl to_param_layout (kernel gradient -> parameter). Not a kernel on its
// own: the host prepends it to those two files.
//
//   e = ((c * k + i) * k + j) * F + f                   (kernel layout)
//   (si, sj) = (k-1-i, k-1-j) when flip, else (i, j)
//   index = ((f * C + c) * k + si) * k + sj              'fckk' (Lasagne's bc01 filters)
//           ((c * k + si) * k + sj) * F + f              'ckkf'
//
// Bindings: none. Overrides: none.

fn param_index_of_kernel(e: u32, channels: u32, k: u32, F: u32, flip: bool, fckk: bool) -> u32 {
  let f = e % F;
  let q = e / F;
  let c = q / (k * k);
  let r = q - c * k * k;
  var i = r / k;
  var j = r - i * k;
  if (flip) {
    i = k - 1u - i;
    j = k - 1u - j;
  }
  if (fckk) {
    return ((f * channels + c) * k + i) * k + j;
  }
  return ((c * k + i) * k + j) * F + f;
}
