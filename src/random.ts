/**
 * Seedable random numbers: the counterpart of `lasagne.random` (`get_rng` / `set_rng`).
 *
 * Lasagne draws every random initial value from `lasagne.random.get_rng()`, which is NumPy's
 * legacy `numpy.random.RandomState` (the MT19937 Mersenne Twister). `RandomState` here is the same
 * generator: seeded with the same integer it produces the same 32-bit words, the same
 * `random_sample` doubles (53 bits from two words), the same `uniform` values and the same legacy
 * Gaussians (Marsaglia's polar method, the second value of each pair kept for the next call) as
 * `np.random.RandomState(seed)`, and `permutation` draws like NumPy's `shuffle`. So
 *
 * ```ts
 * lasagne.random.setRng(new lasagne.random.RandomState(42));
 * ```
 *
 * followed by the same initializers in the same order gives the initial weights Lasagne gives after
 * `lasagne.random.set_rng(np.random.RandomState(42))` (checked against NumPy-generated fixtures in
 * test/fixtures/random_numpy.json). Integer arithmetic is exact on every engine; a Gaussian goes
 * through `Math.log` and `Math.sqrt`, so it can differ from NumPy's in the last bit of a float64
 * (never seen in a float32 weight in the fixtures).
 */
import { ValueError } from './errors.js';

/** 2^-53: turns a 53-bit integer into a float in [0, 1). */
const TWO_POW_MINUS_53 = 1 / 9007199254740992;
const TWO_POW_32 = 4294967296;

/** MT19937's parameters (Matsumoto and Nishimura, 1998). */
const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;

function checkSeed(seed: unknown): number {
  if (typeof seed !== 'number') {
    throw new TypeError(`RandomState requires seed to be a number, but got seed=${typeof seed === 'string' ? `'${seed}'` : String(seed)} (${typeof seed})`);
  }
  if (!Number.isInteger(seed) || seed < 0 || seed > TWO_POW_32 - 1) {
    throw new ValueError(`RandomState requires seed to be an integer between 0 and 2**32 - 1 (NumPy's rule), but seed=${seed}`);
  }
  return seed;
}

/**
 * A seedable pseudo-random generator that follows NumPy's legacy `numpy.random.RandomState`: MT19937
 * seeded like `np.random.RandomState(seed)` (an integer seed, `init_genrand`), with the draws
 * Lasagne's initializers make.
 *
 * @example
 * const rng = new RandomState(42);
 * rng.random();        // 0.3745401188473625, as np.random.RandomState(42).random_sample()
 * rng.normal(0, 0.01); // as np.random.RandomState(...).normal(0, 0.01), continuing the stream
 */
export class RandomState {
  /** The seed this generator started from (a random one when none was given). */
  readonly seed: number;
  readonly #mt = new Uint32Array(N);
  #pos = N;
  /** NumPy's `has_gauss` / `gauss`: the cached second Gaussian of the last polar pair. */
  #hasGauss = false;
  #gauss = 0;

  /**
   * @param seed - an integer in [0, 2^32 - 1], as NumPy requires. Default: a seed drawn from
   *   `Math.random()`, like an unseeded `np.random.RandomState()`; read it back from `.seed`.
   * @throws TypeError when `seed` is not a number; ValueError when it is negative, fractional,
   *   not finite or above 2^32 - 1.
   */
  constructor(seed?: number) {
    this.seed = seed === undefined ? Math.floor(Math.random() * TWO_POW_32) : checkSeed(seed);
    // init_genrand: mt[i] = 1812433253 * (mt[i-1] ^ (mt[i-1] >> 30)) + i, mod 2^32
    const mt = this.#mt;
    mt[0] = this.seed >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
    this.#pos = N;
  }

  /** Regenerates the 624 words of state (MT19937's "twist"). */
  #twist(): void {
    const mt = this.#mt;
    for (let i = 0; i < N; i++) {
      const y = (mt[i] & UPPER_MASK) | (mt[(i + 1) % N] & LOWER_MASK);
      mt[i] = mt[(i + M) % N] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    this.#pos = 0;
  }

  /** The next 32-bit output of MT19937, an unsigned integer in [0, 2^32) (NumPy's `next_uint32`). */
  nextUint32(): number {
    if (this.#pos >= N) this.#twist();
    let y = this.#mt[this.#pos++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /**
   * A double uniformly distributed in [0, 1) with 53 random bits: `np.random.random_sample()`
   * (two words, the first shifted right by 5, the second by 6).
   */
  random(): number {
    const a = this.nextUint32() >>> 5; // 27 bits
    const b = this.nextUint32() >>> 6; // 26 bits
    return (a * 67108864 + b) * TWO_POW_MINUS_53;
  }

  /** The same as `random()`, under NumPy's name. */
  randomSample(): number {
    return this.random();
  }

  /**
   * A double uniformly distributed in [low, high): `low + (high - low) * random()`, the formula of
   * `np.random.uniform` (like NumPy, `low > high` is allowed and samples (high, low]).
   */
  uniform(low = 0, high = 1): number {
    return low + (high - low) * this.random();
  }

  /**
   * A standard normal deviate by NumPy's legacy `gauss`: draw x1, x2 uniform in (-1, 1) until
   * r2 = x1² + x2² is in (0, 1); with f = √(-2 ln r2 / r2), return f·x2 and keep f·x1 for the
   * next call.
   */
  #gaussian(): number {
    if (this.#hasGauss) {
      this.#hasGauss = false;
      return this.#gauss;
    }
    let x1: number;
    let x2: number;
    let r2: number;
    do {
      x1 = 2 * this.random() - 1;
      x2 = 2 * this.random() - 1;
      r2 = x1 * x1 + x2 * x2;
    } while (r2 >= 1 || r2 === 0);
    const f = Math.sqrt((-2 * Math.log(r2)) / r2);
    this.#gauss = f * x1;
    this.#hasGauss = true;
    return f * x2;
  }

  /**
   * A normal deviate N(mean, std²): `np.random.normal(loc=mean, scale=std)`, which is
   * `mean + std * gauss()` (NumPy's legacy Gaussian, see the class comment).
   *
   * @param mean - default 0.
   * @param std - default 1; must be >= 0 (ValueError otherwise, as NumPy's `scale < 0`).
   */
  normal(mean = 0, std = 1): number {
    if (!(std >= 0)) throw new ValueError(`RandomState.normal requires std >= 0, but std=${std}`);
    return mean + std * this.#gaussian();
  }

  /**
   * A uniform integer in [0, max] by NumPy's `random_interval`: the low bits of a word under the
   * smallest all-ones mask covering `max`, drawn again while above `max`.
   */
  #interval(max: number): number {
    if (max === 0) return 0;
    let mask = max;
    mask |= mask >>> 1;
    mask |= mask >>> 2;
    mask |= mask >>> 4;
    mask |= mask >>> 8;
    mask |= mask >>> 16;
    let value: number;
    do value = (this.nextUint32() & mask) >>> 0;
    while (value > max);
    return value;
  }

  /**
   * A random permutation of 0 .. n-1: `np.random.permutation(n)`, NumPy's `shuffle` of
   * `arange(n)` (i from n-1 down to 1 swaps element i with `random_interval(i)`).
   *
   * @param n - a non-negative integer below 2^31.
   */
  permutation(n: number): Int32Array {
    if (typeof n !== 'number') throw new TypeError(`RandomState.permutation requires n to be a number, but got ${typeof n}`);
    if (!Number.isInteger(n) || n < 0 || n > 0x7fffffff) {
      throw new ValueError(`RandomState.permutation requires n to be a non-negative integer below 2^31, but n=${n}`);
    }
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.#interval(i);
      const tmp = out[i];
      out[i] = out[j];
      out[j] = tmp;
    }
    return out;
  }
}

let globalRng: RandomState | null = null;

/**
 * The generator every initializer draws from (`lasagne.random.get_rng()`). Until `setRng` is
 * called it is a `RandomState` with a random seed, created on first use.
 */
export function getRng(): RandomState {
  if (globalRng === null) globalRng = new RandomState();
  return globalRng;
}

/**
 * Replaces the generator returned by `getRng()` (`lasagne.random.set_rng(new_rng)`); use
 * `setRng(new RandomState(seed))` for reproducible initial weights, the same as Lasagne's after
 * `set_rng(np.random.RandomState(seed))`.
 *
 * @throws TypeError when `rng` is not a `RandomState`.
 */
export function setRng(rng: RandomState): void {
  if (!(rng instanceof RandomState)) {
    const got = rng === null ? 'null' : typeof rng === 'object' ? `an object (${(rng as object).constructor?.name ?? 'no constructor'})` : typeof rng;
    throw new TypeError(`setRng requires rng to be a RandomState (e.g. new RandomState(42)), but got ${got}`);
  }
  globalRng = rng;
}
