/**
 * Naive float64 oracles for 2-D convolution.
 *
 * - `convNd` is Lasagne's test reference (lasagne/tests/layers/test_conv.py `convNd`) for n = 2: a
 *   TRUE convolution. It accumulates the full output
 *   `out[b, f, y + i, x + j] += sum_c input[b, c, y, x] * kernel[f, c, i, j]` of size H + k - 1,
 *   then trims: 'valid' drops k - 1 on each side, 'same' keeps H starting at (k - 1) // 2; an int
 *   pad zero-pads the input first and then uses 'valid'. Stride subsamples the result `[::s, ::s]`.
 * - `filterActsC01b` is cuda-convnet's FilterActs (pylearn2 filter_acts): a CORRELATION in c01b,
 *   `out[f, oy, ox, b] = sum_{c,i,j} img[c, oy*s + i - p, ox*s + j - p, b] * filters[c, i, j, f]`
 *   with zeros outside the image, over the UNTRUNCATED grid `ceil((I + 2p - k) / s) + 1` per axis.
 */
const pair = (x) => (Array.isArray(x) ? x : [x, x]);

/** Zero-pads the two spatial axes of a bc01 array by [pr, pc] on each side. */
function zeroPad(input, [pr, pc]) {
  const [B, C, H, W] = input.shape;
  const Hp = H + 2 * pr;
  const Wp = W + 2 * pc;
  const out = new Float64Array(B * C * Hp * Wp);
  for (let b = 0; b < B; b++)
    for (let c = 0; c < C; c++)
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++) out[((b * C + c) * Hp + y + pr) * Wp + x + pc] = input.data[((b * C + c) * H + y) * W + x];
  return { data: out, shape: [B, C, Hp, Wp] };
}

/**
 * Lasagne's `convNd(input, kernel, pad, stride)` for 2-D: input bc01 (B, C, H, W), kernel
 * (F, C, kr, kc); pad 'valid' | 'full' | 'same' | int | [int, int]; stride int | [int, int].
 * Returns { data: Float64Array, shape: [B, F, rows, cols] }.
 */
export function convNd(input, kernel, pad, stride = 1) {
  if (pad !== 'valid' && pad !== 'same' && pad !== 'full') {
    input = zeroPad(input, pair(pad));
    pad = 'valid';
  }
  const [B, C, H, W] = input.shape;
  const [F, Ck, kr, kc] = kernel.shape;
  if (C !== Ck) throw new Error(`convNd: input has ${C} channels but kernel has ${Ck}`);
  const FH = H + kr - 1;
  const FW = W + kc - 1;
  const full = new Float64Array(B * F * FH * FW);
  for (let i = 0; i < kr; i++)
    for (let j = 0; j < kc; j++)
      for (let b = 0; b < B; b++)
        for (let f = 0; f < F; f++)
          for (let c = 0; c < C; c++) {
            const k = kernel.data[((f * C + c) * kr + i) * kc + j];
            for (let y = 0; y < H; y++)
              for (let x = 0; x < W; x++) full[((b * F + f) * FH + y + i) * FW + x + j] += input.data[((b * C + c) * H + y) * W + x] * k;
          }
  // Trim: start offset and length per spatial axis.
  let r0 = 0;
  let c0 = 0;
  let rows = FH;
  let cols = FW;
  if (pad === 'valid') {
    r0 = kr - 1;
    c0 = kc - 1;
    rows = FH - 2 * (kr - 1);
    cols = FW - 2 * (kc - 1);
  } else if (pad === 'same') {
    r0 = Math.floor((kr - 1) / 2);
    c0 = Math.floor((kc - 1) / 2);
    rows = H;
    cols = W;
  }
  const [sr, sc] = pair(stride);
  const outRows = Math.ceil(Math.max(rows, 0) / sr);
  const outCols = Math.ceil(Math.max(cols, 0) / sc);
  const out = new Float64Array(B * F * outRows * outCols);
  for (let b = 0; b < B; b++)
    for (let f = 0; f < F; f++)
      for (let y = 0; y < outRows; y++)
        for (let x = 0; x < outCols; x++)
          out[((b * F + f) * outRows + y) * outCols + x] = full[((b * F + f) * FH + r0 + y * sr) * FW + c0 + x * sc];
  return { data: out, shape: [B, F, outRows, outCols] };
}

/**
 * cuda-convnet FilterActs: img c01b (C, H, W, B), filters (C, k, k, F), integer pad p >= 0, stride
 * s >= 1. Returns { data: Float64Array, shape: [F, rowsCC, colsCC, B] } on the untruncated grid
 * `ceil((I + 2p - k) / s) + 1`.
 */
export function filterActsC01b(img, filters, pad, stride) {
  const [C, H, W, B] = img.shape;
  const [Cf, k, k2, F] = filters.shape;
  if (C !== Cf || k !== k2) throw new Error('filterActsC01b: filters must be (C, k, k, F)');
  const grid = (I) => Math.ceil((I + 2 * pad - k) / stride) + 1;
  const R = grid(H);
  const S = grid(W);
  const out = new Float64Array(F * R * S * B);
  for (let f = 0; f < F; f++)
    for (let oy = 0; oy < R; oy++)
      for (let ox = 0; ox < S; ox++)
        for (let b = 0; b < B; b++) {
          let acc = 0;
          for (let c = 0; c < C; c++)
            for (let i = 0; i < k; i++) {
              const y = oy * stride + i - pad;
              if (y < 0 || y >= H) continue;
              for (let j = 0; j < k; j++) {
                const x = ox * stride + j - pad;
                if (x < 0 || x >= W) continue;
                acc += img.data[((c * H + y) * W + x) * B + b] * filters.data[((c * k + i) * k + j) * F + f];
              }
            }
          out[((f * R + oy) * S + ox) * B + b] = acc;
        }
  return { data: out, shape: [F, R, S, B] };
}
