// transpose.wgsl: the axis transposes of ShuffleBC01ToC01BLayer (`dimshuffle(1, 2, 3, 0)`, bc01 -> c01b)
// and ShuffleC01BToBC01Layer (`dimshuffle(3, 0, 1, 2)`, c01b -> bc01), and the same transposes inside
// Conv2DCCLayer / MaxPool2DCCLayer with dimshuffle=True (lasagne/layers/cuda_convnet.py). Both are a
// 2-D matrix transpose of the C-order data, an exact copy:
//
//   perm [1, 2, 3, 0]: (d0, d1 d2 d3) -> (d1 d2 d3, d0)    rows = d0,         cols = d1*d2*d3
//   perm [3, 0, 1, 2]: (d0 d1 d2, d3) -> (d3, d0 d1 d2)    rows = d0*d1*d2,   cols = d3
//   out[j * rows + i] = in[i * cols + j]
//
// Bindings (group 0):
//   0  arena   storage, read_write  array<f32>: input (rows, cols) at params.in_off, output (cols, rows)
//                                   at params.out_off, element offsets into the bound range
//   1  params  uniform              Params
// Overrides: none.
// Geometry: workgroup (TILE, TILE) = (16, 16); a workgroup moves one TILE x TILE block through
//   workgroup memory so that both the reads and the writes are contiguous. Block
//   wid = wg.x + wg.y * num_workgroups.x < params.tiles = ceil(rows / TILE) * params.col_tiles,
//   block row wid / col_tiles, block column wid % col_tiles.

struct Params {
  in_off: u32,
  out_off: u32,
  rows: u32,
  cols: u32,
  col_tiles: u32,
  tiles: u32,
}

@group(0) @binding(0) var<storage, read_write> arena: array<f32>;
@group(0) @binding(1) var<uniform> params: Params;

const TILE: u32 = 16u;

// One padding column keeps the column reads of the second phase free of bank conflicts. An element
// is read only where the same block position was written (both bounds checks name one input element).
var<workgroup> block: array<array<f32, TILE + 1u>, TILE>;

@compute @workgroup_size(TILE, TILE)
fn transpose(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
) {
  let wid = wg.x + wg.y * nwg.x;
  if (wid >= params.tiles) {
    return;
  }
  let i0 = (wid / params.col_tiles) * TILE;
  let j0 = (wid % params.col_tiles) * TILE;
  let i = i0 + lid.y;
  let j = j0 + lid.x;
  if (i < params.rows && j < params.cols) {
    block[lid.y][lid.x] = arena[params.in_off + i * params.cols + j];
  }
  workgroupBarrier();
  // out row j0 + lid.y, column i0 + lid.x
  let oj = j0 + lid.y;
  let oi = i0 + lid.x;
  if (oj < params.cols && oi < params.rows) {
    arena[params.out_off + oj * params.rows + oi] = block[lid.x][lid.y];
  }
}
