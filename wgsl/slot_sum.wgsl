// slot_sum.wgsl: the reduce passes' sum of a kernel's partial-sum slots (nin_grad.wgsl reduce over
// its K slices, weight_acts.wgsl reduce over its groups and slices): slot 0 + slot 1 + ... in slot
// order, so both kernels round alike. Not a kernel on its own: the host prepends it to those two
// files, which declare `arena`.
//
//   slot_sum(base, size, slots, e) = sum_{t = 0 .. slots-1} arena[base + t * size + e]   (t ascending)
//
// Bindings: none of its own (reads the kernel's arena). Overrides: none.

fn slot_sum(base: u32, size: u32, slots: u32, e: u32) -> f32 {
  var s = arena[base + e];
  for (var t = 1u; t < slots; t++) {
    s += arena[base + t * size + e];
  }
  return s;
}
