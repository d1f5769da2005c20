/** Plain-loop helpers on { data, shape } arrays (C order) for the oracles and the tests. */

export function size(shape) {
  return shape.reduce((n, d) => n * d, 1);
}

export function strides(shape) {
  const s = new Array(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** np.transpose(a, perm): out.shape[i] = a.shape[perm[i]]. Keeps the data's typed-array class. */
export function transpose(a, perm) {
  const outShape = perm.map((p) => a.shape[p]);
  const inStrides = strides(a.shape);
  const out = new a.data.constructor(a.data.length);
  const idx = new Array(outShape.length).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let i = 0; i < idx.length; i++) src += idx[i] * inStrides[perm[i]];
    out[o] = a.data[src];
    for (let i = idx.length - 1; i >= 0; i--) {
      if (++idx[i] < outShape[i]) break;
      idx[i] = 0;
    }
  }
  return { data: out, shape: outShape };
}

/** kernel[:, :, ::-1, ::-1] for a 4-D (F, C, rows, cols) kernel. */
export function flipSpatial(kernel) {
  const [F, C, R, S] = kernel.shape;
  const out = new kernel.data.constructor(kernel.data.length);
  for (let f = 0; f < F; f++)
    for (let c = 0; c < C; c++)
      for (let i = 0; i < R; i++)
        for (let j = 0; j < S; j++)
          out[((f * C + c) * R + i) * S + j] = kernel.data[((f * C + c) * R + (R - 1 - i)) * S + (S - 1 - j)];
  return { data: out, shape: [...kernel.shape] };
}

/** a[..., :rows, :cols, :] for a 4-D c01b-like array (slices axes 1 and 2). */
export function cropAxes12(a, rows, cols) {
  const [A, R, S, B] = a.shape;
  const out = new a.data.constructor(A * rows * cols * B);
  for (let x = 0; x < A; x++)
    for (let i = 0; i < rows; i++)
      for (let j = 0; j < cols; j++)
        for (let b = 0; b < B; b++) out[((x * rows + i) * cols + j) * B + b] = a.data[((x * R + i) * S + j) * B + b];
  return { data: out, shape: [A, rows, cols, B] };
}

/** Largest |a - b| over two arrays of the same shape (Infinity if the shapes differ). */
export function maxAbsDiff(a, b) {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) return Infinity;
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i] - b.data[i]));
  return m;
}
