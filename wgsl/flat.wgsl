// flat.wgsl: the one-thread-per-element geometry of the flat passes (elementwise.wgsl, update.wgsl's
// update, and the reduce and to_param_layout passes of nin_grad.wgsl and weight_acts.wgsl):
// workgroups of FLAT threads (src/backend/webgpu/geometry.ts FLAT_WORKGROUP), the host splitting the
// workgroup count over x and y. Not a kernel on its own: the host prepends it to those files.
//
//   element = (wg.x + wg.y * num_workgroups.x) * FLAT + local invocation index
//
// Bindings: none. Overrides: none.

const FLAT: u32 = 256u;

fn element(wg: vec3<u32>, nwg: vec3<u32>, li: u32) -> u32 {
  return (wg.x + wg.y * nwg.x) * FLAT + li;
}
