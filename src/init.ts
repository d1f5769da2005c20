/**
 * Parameter initializers: the counterpart of `lasagne.init`.
 *
 * Every initializer is a class constructed with an options object (Lasagne's keyword arguments in
 * camelCase) whose `sample(shape)` returns a float32 `NDArray` of exactly that shape. All randomness
 * comes from `getRng()` (see `random.ts`): call `setRng(new RandomState(seed))` for reproducible
 * values. The formulas, defaults, errors and draw order are Lasagne's and `RandomState` is NumPy's
 * legacy MT19937, so Uniform, Normal, Glorot*, He* and Sparse give Lasagne's values after
 * `lasagne.random.set_rng(np.random.RandomState(seed))` (Orthogonal draws the same normals, but its
 * SVD's signs are not NumPy's).
 */
import { NotImplementedError, RuntimeError, ValueError } from './errors.js';
import { checkElements, formatShape, full, shapeSize } from './ndarray.js';
import type { NDArray } from './ndarray.js';
import { checkOptions } from './options.js';
import { getRng } from './random.js';
import { registerValue } from './layers/registry.js';

/** A gain: a number, or `'relu'` for √2 (Lasagne's `gain='relu'`). */
export type Gain = number | 'relu';

/** A class of initializer that `Glorot` and `He` instantiate as `new initializer({ std })`. */
export type InitializerClass = new (options: { std: number }) => Initializer;

function repr(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (Array.isArray(value)) return `[${value.map(repr).join(', ')}]`;
  if (typeof value === 'function') return value.name ? `function ${value.name}` : 'a function';
  if (value !== null && typeof value === 'object') return `an object (${(value as object).constructor?.name ?? 'no prototype'})`;
  return String(value);
}

/** A finite number option: TypeError for a non-number, ValueError for NaN or ±Infinity. */
function finiteNumber(value: unknown, option: string, owner: string): number {
  if (typeof value !== 'number') {
    throw new TypeError(`${owner} requires ${option} to be a number, but ${option}=${repr(value)}`);
  }
  if (!Number.isFinite(value)) {
    throw new ValueError(`${owner} requires ${option} to be a finite number, but ${option}=${value}`);
  }
  return value;
}

function nonNegative(value: unknown, option: string, owner: string): number {
  const v = finiteNumber(value, option, owner);
  if (v < 0) throw new ValueError(`${owner} requires ${option} >= 0, but ${option}=${v}`);
  return v;
}

function boolean(value: unknown, option: string, owner: string): boolean {
  if (typeof value !== 'boolean') {
    throw new TypeError(`${owner} requires ${option} to be true or false, but ${option}=${repr(value)}`);
  }
  return value;
}

/** `'relu'` -> √2 (`np.sqrt(2)`); any other string is a ValueError; numbers must be finite. */
function resolveGain(value: unknown, owner: string, allowNegative: boolean): number {
  if (typeof value === 'string') {
    if (value === 'relu') return Math.SQRT2;
    throw new ValueError(`${owner} requires gain to be a number or 'relu', but gain=${repr(value)}`);
  }
  if (typeof value !== 'number') {
    throw new TypeError(`${owner} requires gain to be a number or 'relu', but gain=${repr(value)}`);
  }
  return allowNegative ? finiteNumber(value, 'gain', owner) : nonNegative(value, 'gain', owner);
}

/** Data arrays the built-in initializers just created, and the initializer whose sample() made each. */
const FRESH = new WeakMap<Float32Array, Initializer>();

function fresh(a: NDArray, by: Initializer): NDArray {
  FRESH.set(a.data, by);
  return a;
}

/**
 * @internal Whether `data` is a new sample that `by.sample()` made itself (a built-in initializer,
 * nobody else holds it): a parameter then keeps it without a copy (one 1 GiB array rather than
 * two). Answers true once.
 */
export function takeFreshSample(data: Float32Array, by: Initializer): boolean {
  const made = FRESH.get(data) === by;
  FRESH.delete(data);
  return made;
}

/** The shape handed to `sample`: an array of positive integers (ValueError naming shape otherwise). */
function sampleShape(shape: unknown, owner: string): number[] {
  const ok =
    Array.isArray(shape) && shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d > 0);
  if (!ok) {
    const got = Array.isArray(shape) ? `[${shape.map(repr).join(', ')}]` : repr(shape);
    throw new ValueError(`${owner}.sample requires shape to be an array of positive integers, but shape=${got}`);
  }
  const dims = [...(shape as number[])];
  checkElements(dims, `${owner}.sample's array`);
  return dims;
}

function product(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/**
 * Base class of all initializers (`lasagne.init.Initializer`). Subclasses override
 * `sample(shape)`; the base `sample` raises `NotImplementedError`, as in Lasagne.
 */
export class Initializer {
  /**
   * Samples an initial value of the given shape.
   *
   * @param shape - an array of positive integers.
   * @returns a float32 `NDArray` with exactly that shape.
   * @throws NotImplementedError in the base class.
   */
  sample(shape: readonly number[]): NDArray {
    void shape;
    throw new NotImplementedError(
      `${this.constructor.name}.sample(shape) is not implemented: subclasses of Initializer must override sample`,
    );
  }

  /** The class name and its options, e.g. `GlorotUniform(gain=1, c01b=false)`. */
  toString(): string {
    return `${this.constructor.name}()`;
  }
}

/** Options of `Constant`. */
export interface ConstantOptions {
  /** The constant value. Default 0. */
  val?: number;
}

/**
 * Initializes with a constant value (`lasagne.init.Constant`): `ones(shape) * val`, rounded to
 * float32.
 *
 * Parameters: `val` (number, default 0).
 */
export class Constant extends Initializer {
  /** The constant value. */
  readonly val: number;

  constructor(options?: ConstantOptions) {
    super();
    const o = checkOptions<ConstantOptions>(options, ['val'], 'Constant');
    this.val = finiteNumber(o.val === undefined ? 0 : o.val, 'val', 'Constant');
  }

  override sample(shape: readonly number[]): NDArray {
    return fresh(full(sampleShape(shape, 'Constant'), this.val), this);
  }

  override toString(): string {
    return `Constant(val=${this.val})`;
  }
}

/** Options of `Normal`. */
export interface NormalOptions {
  /** Standard deviation of the normal distribution. Default 0.01. */
  std?: number;
  /** Mean of the normal distribution. Default 0. */
  mean?: number;
}

/**
 * Samples initial weights from a Gaussian distribution (`lasagne.init.Normal`): `N(mean, std²)`.
 *
 * Parameters: `std` (default 0.01, must be >= 0), `mean` (default 0).
 */
export class Normal extends Initializer {
  /** Standard deviation. */
  readonly std: number;
  /** Mean. */
  readonly mean: number;

  constructor(options?: NormalOptions) {
    super();
    const o = checkOptions<NormalOptions>(options, ['std', 'mean'], 'Normal');
    this.std = nonNegative(o.std === undefined ? 0.01 : o.std, 'std', 'Normal');
    this.mean = finiteNumber(o.mean === undefined ? 0 : o.mean, 'mean', 'Normal');
  }

  override sample(shape: readonly number[]): NDArray {
    const dims = sampleShape(shape, 'Normal');
    const rng = getRng();
    const data = new Float32Array(shapeSize(dims));
    for (let i = 0; i < data.length; i++) data[i] = rng.normal(this.mean, this.std);
    return fresh({ data, shape: dims }, this);
  }

  override toString(): string {
    return `Normal(std=${this.std}, mean=${this.mean})`;
  }
}

/** Options of `Uniform`. */
export interface UniformOptions {
  /**
   * A number r gives U(-r, r); a pair `[low, high]` gives U(low, high). Default 0.01. Ignored when
   * `std` is given.
   */
  range?: number | readonly [number, number];
  /** If given (not null), sample U(mean - √3·std, mean + √3·std), which has this std. Default null. */
  std?: number | null;
  /** Mean of the distribution; only used together with `std`. Default 0. */
  mean?: number;
}

/**
 * Samples initial weights from a uniform distribution (`lasagne.init.Uniform`).
 *
 * Parameters: `range` (number or `[low, high]`, default 0.01), `std` (default null), `mean`
 * (default 0). If `std` is given: U(mean - √3·std, mean + √3·std). Otherwise a pair
 * `range = [a, b]` gives U(a, b) and a number gives U(-range, range). As in Lasagne, `mean` is
 * ignored unless `std` is given, and `low > high` is allowed (NumPy's `uniform` then samples
 * (high, low]).
 */
export class Uniform extends Initializer {
  /** The resolved interval `[low, high]`. */
  readonly range: readonly [number, number];

  constructor(options?: UniformOptions) {
    super();
    const o = checkOptions<UniformOptions>(options, ['range', 'std', 'mean'], 'Uniform');
    const range = o.range === undefined ? 0.01 : o.range;
    let pair: [number, number];
    if (Array.isArray(range)) {
      if (range.length !== 2) {
        throw new ValueError(`Uniform requires range to be a number or a pair [low, high], but range=${repr(range)}`);
      }
      pair = [finiteNumber(range[0], 'range[0]', 'Uniform'), finiteNumber(range[1], 'range[1]', 'Uniform')];
    } else if (typeof range === 'number') {
      const r = finiteNumber(range, 'range', 'Uniform');
      pair = [-r, r];
    } else {
      throw new TypeError(`Uniform requires range to be a number or a pair [low, high], but range=${repr(range)}`);
    }
    const mean = finiteNumber(o.mean === undefined ? 0 : o.mean, 'mean', 'Uniform');
    if (o.std !== undefined && o.std !== null) {
      const std = nonNegative(o.std, 'std', 'Uniform');
      pair = [mean - Math.sqrt(3) * std, mean + Math.sqrt(3) * std];
    }
    this.range = Object.freeze(pair) as readonly [number, number];
  }

  override sample(shape: readonly number[]): NDArray {
    const dims = sampleShape(shape, 'Uniform');
    const rng = getRng();
    const [low, high] = this.range;
    const data = new Float32Array(shapeSize(dims));
    for (let i = 0; i < data.length; i++) data[i] = rng.uniform(low, high);
    return fresh({ data, shape: dims }, this);
  }

  override toString(): string {
    return `Uniform(range=[${this.range[0]}, ${this.range[1]}])`;
  }
}

/** Options of `Glorot`, `GlorotNormal`, `GlorotUniform`, `He`, `HeNormal`, `HeUniform`. */
export interface GlorotOptions {
  /** Scaling factor; `'relu'` means √2. Default 1. Must be >= 0. */
  gain?: Gain;
  /** True for c01b weight layouts `(C, rows, cols, F)` (cuda-convnet). Default false. */
  c01b?: boolean;
}

function checkInitializerClass(value: unknown, owner: string): InitializerClass {
  if (typeof value !== 'function' || !(value.prototype instanceof Initializer)) {
    throw new TypeError(
      `${owner} requires initializer to be an Initializer class such as init.Normal or init.Uniform (not an instance), but initializer=${repr(value)}`,
    );
  }
  return value as InitializerClass;
}

function c01bShapeError(owner: string, dims: readonly number[]): RuntimeError {
  return new RuntimeError(`If c01b is True, only shapes of length 4 are accepted; ${owner} got shape=${formatShape(dims)}`);
}

function shortShapeError(owner: string, dims: readonly number[]): RuntimeError {
  return new RuntimeError(`This initializer only works with shapes of length >= 2; ${owner} got shape=${formatShape(dims)}`);
}

/**
 * Glorot weight initialization (`lasagne.init.Glorot`), also known as Xavier initialization.
 *
 * Parameters: `initializer` (an Initializer class taking `{ std }`, e.g. `Normal` or `Uniform`),
 * `gain` (number or `'relu'` = √2, default 1), `c01b` (default false).
 *
 * Formula: with `c01b`, the shape must have length 4 and n1 = shape[0], n2 = shape[3],
 * rf = shape[1]·shape[2]; otherwise the length must be >= 2 and n1, n2 = shape[0], shape[1],
 * rf = prod(shape[2:]). Then std = gain·√(2 / ((n1 + n2)·rf)) and the sample is
 * `new initializer({ std }).sample(shape)`: N(0, std²) for Normal,
 * U(±gain·√(6 / ((n1 + n2)·rf))) for Uniform.
 *
 * @throws RuntimeError from `sample` for a shape of the wrong length (Lasagne's wording).
 */
export class Glorot extends Initializer {
  /** The Initializer class instantiated with `{ std }`. */
  readonly initializer: InitializerClass;
  /** The resolved gain (`'relu'` already replaced by √2). */
  readonly gain: number;
  /** Whether shapes are read as c01b. */
  readonly c01b: boolean;

  constructor(initializer: InitializerClass, options?: GlorotOptions) {
    super();
    const owner = new.target.name;
    this.initializer = checkInitializerClass(initializer, owner);
    const o = checkOptions<GlorotOptions>(options, ['gain', 'c01b'], owner);
    this.gain = resolveGain(o.gain === undefined ? 1 : o.gain, owner, false);
    this.c01b = boolean(o.c01b === undefined ? false : o.c01b, 'c01b', owner);
  }

  override sample(shape: readonly number[]): NDArray {
    const owner = this.constructor.name;
    const dims = sampleShape(shape, owner);
    let n1: number;
    let n2: number;
    let receptiveField: number;
    if (this.c01b) {
      if (dims.length !== 4) throw c01bShapeError(owner, dims);
      // c01b: (channels, rows, cols, filters)
      n1 = dims[0];
      n2 = dims[3];
      receptiveField = dims[1] * dims[2];
    } else {
      if (dims.length < 2) throw shortShapeError(owner, dims);
      n1 = dims[0];
      n2 = dims[1];
      receptiveField = product(dims.slice(2));
    }
    const std = this.gain * Math.sqrt(2.0 / ((n1 + n2) * receptiveField));
    return fresh(new this.initializer({ std }).sample(dims), this);
  }

  override toString(): string {
    return `${this.constructor.name}(${this.constructor === Glorot || this.constructor === He ? `${this.initializer.name}, ` : ''}gain=${this.gain}, c01b=${this.c01b})`;
  }
}

/**
 * Glorot with weights sampled from a normal distribution (`lasagne.init.GlorotNormal`):
 * N(0, std²), std = gain·√(2 / ((n1 + n2)·rf)) (see `Glorot` for n1, n2, rf).
 *
 * Parameters: `gain` (number or `'relu'`, default 1), `c01b` (default false).
 */
export class GlorotNormal extends Glorot {
  constructor(options?: GlorotOptions) {
    super(Normal, options);
  }
}

/**
 * Glorot with weights sampled from a uniform distribution (`lasagne.init.GlorotUniform`, the
 * default `W` of Lasagne's conv and dense layers): U(±gain·√(6 / ((n1 + n2)·rf))) (see `Glorot`).
 *
 * Parameters: `gain` (number or `'relu'`, default 1), `c01b` (default false).
 */
export class GlorotUniform extends Glorot {
  constructor(options?: GlorotOptions) {
    super(Uniform, options);
  }
}

/**
 * He weight initialization (`lasagne.init.He`), also known as Kaiming initialization.
 *
 * Parameters: `initializer` (an Initializer class taking `{ std }`), `gain` (number or `'relu'` =
 * √2, default 1), `c01b` (default false).
 *
 * Formula: with `c01b` (4-D only) fan_in = shape[0]·shape[1]·shape[2]; otherwise a 2-D shape has
 * fan_in = shape[0] and a longer one fan_in = prod(shape[1:]) (so a `(numUnits, C)` NINLayer_c01b
 * weight gets fan_in = numUnits, Lasagne's quirk). std = gain·√(1 / fan_in); then
 * `new initializer({ std }).sample(shape)`.
 *
 * @throws RuntimeError from `sample` for a shape of the wrong length (Lasagne's wording).
 */
export class He extends Initializer {
  /** The Initializer class instantiated with `{ std }`. */
  readonly initializer: InitializerClass;
  /** The resolved gain (`'relu'` already replaced by √2). */
  readonly gain: number;
  /** Whether shapes are read as c01b. */
  readonly c01b: boolean;

  constructor(initializer: InitializerClass, options?: GlorotOptions) {
    super();
    const owner = new.target.name;
    this.initializer = checkInitializerClass(initializer, owner);
    const o = checkOptions<GlorotOptions>(options, ['gain', 'c01b'], owner);
    this.gain = resolveGain(o.gain === undefined ? 1 : o.gain, owner, false);
    this.c01b = boolean(o.c01b === undefined ? false : o.c01b, 'c01b', owner);
  }

  override sample(shape: readonly number[]): NDArray {
    const owner = this.constructor.name;
    const dims = sampleShape(shape, owner);
    let fanIn: number;
    if (this.c01b) {
      if (dims.length !== 4) throw c01bShapeError(owner, dims);
      // c01b: (channels, rows, cols, filters); every input of a filter
      fanIn = dims[0] * dims[1] * dims[2];
    } else if (dims.length === 2) {
      fanIn = dims[0];
    } else if (dims.length > 2) {
      fanIn = product(dims.slice(1));
    } else {
      throw shortShapeError(owner, dims);
    }
    const std = this.gain * Math.sqrt(1.0 / fanIn);
    return fresh(new this.initializer({ std }).sample(dims), this);
  }

  override toString(): string {
    return Glorot.prototype.toString.call(this);
  }
}

/**
 * He with weights sampled from a normal distribution (`lasagne.init.HeNormal`): N(0, std²),
 * std = gain·√(1 / fan_in) (see `He` for fan_in).
 *
 * Parameters: `gain` (number or `'relu'`, default 1), `c01b` (default false).
 */
export class HeNormal extends He {
  constructor(options?: GlorotOptions) {
    super(Normal, options);
  }
}

/**
 * He with weights sampled from a uniform distribution (`lasagne.init.HeUniform`):
 * U(±gain·√(3 / fan_in)) (see `He` for fan_in).
 *
 * Parameters: `gain` (number or `'relu'`, default 1), `c01b` (default false).
 */
export class HeUniform extends He {
  constructor(options?: GlorotOptions) {
    super(Uniform, options);
  }
}

/** Options of `Orthogonal`. */
export interface OrthogonalOptions {
  /** Scaling factor; `'relu'` means √2. Default 1. */
  gain?: Gain;
}

/**
 * Householder QR of the p×q float64 matrix `a` (p >= q) stored column-major (column j is
 * `a[j*p .. j*p+p-1]`, so every inner loop is contiguous). Returns the thin factor Q (p×q,
 * column-major) with the column signs chosen so that R has a positive diagonal; for a Gaussian `a`
 * that Q is Haar-distributed (uniform over matrices with orthonormal columns). `a` is overwritten.
 */
function orthonormalColumns(a: Float64Array, p: number, q: number): Float64Array {
  const rDiag = new Float64Array(q);
  // Column j of `a`, rows j..p-1, is overwritten by the unit Householder vector v_j.
  for (let j = 0; j < q; j++) {
    const vj = j * p;
    let norm2 = 0;
    for (let i = j; i < p; i++) norm2 += a[vj + i] * a[vj + i];
    const x0 = a[vj + j];
    const alpha = x0 >= 0 ? -Math.sqrt(norm2) : Math.sqrt(norm2);
    // v = x - alpha·e1, then normalised; H = I - 2·v·vᵀ maps x to alpha·e1.
    a[vj + j] = x0 - alpha;
    let vNorm2 = 0;
    for (let i = j; i < p; i++) vNorm2 += a[vj + i] * a[vj + i];
    if (vNorm2 === 0) {
      rDiag[j] = x0; // x is already zero: H = I (v stays zero)
      continue;
    }
    rDiag[j] = alpha;
    const vNorm = Math.sqrt(vNorm2);
    for (let i = j; i < p; i++) a[vj + i] /= vNorm;
    for (let c = j + 1; c < q; c++) {
      const col = c * p;
      let dot = 0;
      for (let i = j; i < p; i++) dot += a[vj + i] * a[col + i];
      dot *= 2;
      for (let i = j; i < p; i++) a[col + i] -= dot * a[vj + i];
    }
  }
  // Q = H_0 H_1 ... H_{q-1} applied to the first q columns of the identity.
  const qMat = new Float64Array(p * q);
  for (let j = 0; j < q; j++) qMat[j * p + j] = 1;
  for (let j = q - 1; j >= 0; j--) {
    const vj = j * p;
    for (let c = j; c < q; c++) {
      const col = c * p;
      let dot = 0;
      for (let i = j; i < p; i++) dot += a[vj + i] * qMat[col + i];
      if (dot === 0) continue;
      dot *= 2;
      for (let i = j; i < p; i++) qMat[col + i] -= dot * a[vj + i];
    }
  }
  for (let j = 0; j < q; j++) {
    if (rDiag[j] < 0) for (let i = 0; i < p; i++) qMat[j * p + i] = -qMat[j * p + i];
  }
  return qMat;
}

/**
 * Orthogonal initialization (`lasagne.init.Orthogonal`, Saxe et al. 2013).
 *
 * Parameters: `gain` (number or `'relu'` = √2, default 1).
 *
 * Formula: flat = (shape[0], prod(shape[1:])), A ~ N(0, 1) of that shape; the result is
 * gain·Q reshaped to `shape`, where Q (flat-shaped) has orthonormal columns when
 * shape[0] >= prod(shape[1:]) and orthonormal rows otherwise.
 *
 * Lasagne takes Q from `svd(A, full_matrices=False)` (u or v, whichever has the flat shape). This
 * port takes it from a float64 Householder QR of A (or of Aᵀ, transposed back) with the signs fixed
 * so that R has a positive diagonal. That Q is Haar-distributed, which is the distribution of the
 * SVD factor of a Gaussian matrix, so the samples follow the same law (the values differ anyway,
 * as the random stream is not NumPy's).
 *
 * @throws RuntimeError from `sample` for shapes of length < 2 (Lasagne's wording).
 */
export class Orthogonal extends Initializer {
  /** The resolved gain (`'relu'` already replaced by √2). */
  readonly gain: number;

  constructor(options?: OrthogonalOptions) {
    super();
    const o = checkOptions<OrthogonalOptions>(options, ['gain'], 'Orthogonal');
    this.gain = resolveGain(o.gain === undefined ? 1 : o.gain, 'Orthogonal', true);
  }

  override sample(shape: readonly number[]): NDArray {
    const dims = sampleShape(shape, 'Orthogonal');
    if (dims.length < 2) {
      throw new RuntimeError(`Only shapes of length 2 or more are supported. Orthogonal got shape=${formatShape(dims)}`);
    }
    const rows = dims[0];
    const cols = product(dims.slice(1));
    const rng = getRng();
    // A: rows×cols, row-major, drawn in C order like np.random.normal(0, 1, flat_shape).
    const a = new Float64Array(rows * cols);
    for (let i = 0; i < a.length; i++) a[i] = rng.normal(0, 1);
    const data = new Float32Array(rows * cols);
    if (rows >= cols) {
      // Column-major copy of A (rows×cols); Q comes back rows×cols column-major.
      const aColMajor = new Float64Array(rows * cols);
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) aColMajor[c * rows + r] = a[r * cols + c];
      const q = orthonormalColumns(aColMajor, rows, cols);
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) data[r * cols + c] = this.gain * q[c * rows + r];
    } else {
      // Row-major A is column-major Aᵀ (cols×rows). Its Q, cols×rows column-major, is read back
      // row-major as Qᵀ: rows×cols with orthonormal rows.
      const q = orthonormalColumns(a, cols, rows);
      for (let i = 0; i < q.length; i++) data[i] = this.gain * q[i];
    }
    return fresh({ data, shape: dims }, this);
  }

  override toString(): string {
    return `Orthogonal(gain=${this.gain})`;
  }
}

/** Options of `Sparse`. */
export interface SparseOptions {
  /** Fraction of non-zero entries per column, in [0, 1]. Default 0.1. */
  sparsity?: number;
  /** Standard deviation of the non-zero entries. Default 0.01. */
  std?: number;
}

/**
 * Sparse initialization (`lasagne.init.Sparse`, Martens 2010) for 2-D weights only.
 *
 * Parameters: `sparsity` (default 0.1, in [0, 1]), `std` (default 0.01, >= 0).
 *
 * Formula: for a shape (nIn, nOut), each column k gets `trunc(sparsity·nIn)` non-zero entries at
 * rows chosen by a random permutation, drawn from N(0, std²); all other entries are 0.
 *
 * @throws RuntimeError from `sample` for shapes of length other than 2 (Lasagne's wording).
 */
export class Sparse extends Initializer {
  /** Fraction of non-zero entries per column. */
  readonly sparsity: number;
  /** Standard deviation of the non-zero entries. */
  readonly std: number;

  constructor(options?: SparseOptions) {
    super();
    const o = checkOptions<SparseOptions>(options, ['sparsity', 'std'], 'Sparse');
    this.sparsity = finiteNumber(o.sparsity === undefined ? 0.1 : o.sparsity, 'sparsity', 'Sparse');
    if (this.sparsity < 0 || this.sparsity > 1) {
      throw new ValueError(`Sparse requires 0 <= sparsity <= 1, but sparsity=${this.sparsity}`);
    }
    this.std = nonNegative(o.std === undefined ? 0.01 : o.std, 'std', 'Sparse');
  }

  override sample(shape: readonly number[]): NDArray {
    const dims = sampleShape(shape, 'Sparse');
    if (dims.length !== 2) {
      throw new RuntimeError(`sparse initializer only works with shapes of length 2; Sparse got shape=${formatShape(dims)}`);
    }
    const [nIn, nOut] = dims;
    const size = Math.trunc(this.sparsity * nIn); // Python's int(sparsity * n_inputs)
    const rng = getRng();
    const data = new Float32Array(nIn * nOut);
    for (let k = 0; k < nOut; k++) {
      const rows = rng.permutation(nIn);
      for (let i = 0; i < size; i++) data[rows[i] * nOut + k] = rng.normal(0, this.std);
    }
    return fresh({ data, shape: dims }, this);
  }

  override toString(): string {
    return `Sparse(sparsity=${this.sparsity}, std=${this.std})`;
  }
}

// Model files (layers.toJSON) name initializers; each is rebuilt from these attributes.
registerValue('Constant', Constant, { options: ['val'] });
registerValue('Normal', Normal, { options: ['std', 'mean'] });
registerValue('Uniform', Uniform, { options: ['range'] });
registerValue('Glorot', Glorot, { args: ['initializer'], options: ['gain', 'c01b'] });
registerValue('GlorotNormal', GlorotNormal, { options: ['gain', 'c01b'] });
registerValue('GlorotUniform', GlorotUniform, { options: ['gain', 'c01b'] });
registerValue('He', He, { args: ['initializer'], options: ['gain', 'c01b'] });
registerValue('HeNormal', HeNormal, { options: ['gain', 'c01b'] });
registerValue('HeUniform', HeUniform, { options: ['gain', 'c01b'] });
registerValue('Orthogonal', Orthogonal, { options: ['gain'] });
registerValue('Sparse', Sparse, { options: ['sparsity', 'std'] });
