/**
 * Seedable random numbers: the counterpart of `lasagne.random` (`get_rng` / `set_rng`).
 *
 * Lasagne draws every random initial value from `lasagne.random.get_rng()`, which is NumPy's
 * MT19937-based `numpy.random` unless `set_rng(np.random.RandomState(seed))` was called. This module
 * keeps that structure with a portable generator instead of MT19937: xoshiro128** (Blackman and
 * Vigna) seeded through splitmix32. Everything is 32-bit integer arithmetic (`Math.imul`, shifts)
 * plus correctly rounded float64 `+ - * / sqrt` and a logarithm written with those operations only,
 * so a given seed yields bit-identical numbers on every JavaScript engine and machine.
 *
 * The numbers are NOT NumPy's: the same seed gives different values than
 * `np.random.RandomState(seed)`. Lasagne's own tests check distributions (means, standard
 * deviations, bounds, orthonormality), never exact values, and so do this project's.
 */
import { ValueError } from './errors.js';

/** 2^-53: turns a 53-bit integer into a float in [0, 1). */
const TWO_POW_MINUS_53 = 1 / 9007199254740992;
const TWO_POW_32 = 4294967296;

/** ln 2 split in two (fdlibm's constants) so that `k * ln2` adds no rounding error of its own. */
const LN2_HI = 6.93147180369123816490e-1;
const LN2_LO = 1.90821492927058770002e-10;

/** 1/23, 1/21, ..., 1/1: the odd-reciprocal coefficients of the atanh series, highest first. */
const LOG_SERIES = Array.from({ length: 12 }, (_, i) => 1 / (23 - 2 * i));

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * Natural logarithm of a positive finite float64 built from `+ - * /` only, so its result is the
 * same on every engine (`Math.log` is only required to be an approximation and engines differ in
 * the last bit). Accurate to about 1 ulp.
 *
 * Formula: x = m·2^k with m in [√½, √2); with s = (m-1)/(m+1),
 * ln m = 2·atanh(s) = 2(s + s³/3 + s⁵/5 + ...), |s| <= 0.1716, so 12 terms reach 2^-53.
 */
function portableLog(x: number): number {
  let k = 0;
  let m = x;
  while (m < Math.SQRT1_2) {
    m *= 2;
    k--;
  }
  while (m >= Math.SQRT2) {
    m /= 2;
    k++;
  }
  const s = (m - 1) / (m + 1);
  const s2 = s * s;
  // Horner form of 1 + s²/3 + s⁴/5 + ... + s²²/23.
  let poly = LOG_SERIES[0];
  for (let i = 1; i < LOG_SERIES.length; i++) poly = poly * s2 + LOG_SERIES[i];
  return k * LN2_HI + (2 * s * poly + k * LN2_LO);
}

function checkSeed(seed: unknown): number {
  if (typeof seed !== 'number') {
    throw new TypeError(`RandomState requires seed to be a number, but got seed=${typeof seed === 'string' ? `'${seed}'` : String(seed)} (${typeof seed})`);
  }
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new ValueError(
      `RandomState requires seed to be a non-negative safe integer (0 <= seed <= ${Number.MAX_SAFE_INTEGER}), but seed=${seed}`,
    );
  }
  return seed;
}

/**
 * A seedable pseudo-random generator, the counterpart of `numpy.random.RandomState` for the few
 * distributions Lasagne's initializers need.
 *
 * Algorithm: xoshiro128** (128-bit state, period 2^128 - 1), its state filled from the seed by
 * splitmix32. Doubles use 53 random bits (two 32-bit outputs), normals use Marsaglia's polar method
 * with a portable logarithm. For a given seed the sequence is identical on every JavaScript engine
 * and machine; it differs from NumPy's MT19937 (Lasagne's tests check distributions, not values).
 *
 * @example
 * const rng = new RandomState(42);
 * rng.random();        // same value everywhere for seed 42
 * rng.normal(0, 0.01); // N(0, 0.01²)
 */
export class RandomState {
  /** The seed this generator started from (a random one when none was given). */
  readonly seed: number;
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  /** The second normal of the last polar-method pair, or NaN when none is pending. */
  private spareNormal = NaN;

  /**
   * @param seed - a non-negative safe integer (0 .. 2^53-1). Default: a seed drawn from
   *   `Math.random()`, like an unseeded `np.random.RandomState()`; read it back from `.seed`.
   * @throws TypeError when `seed` is not a number; ValueError when it is negative, fractional,
   *   not finite or above `Number.MAX_SAFE_INTEGER`.
   */
  constructor(seed?: number) {
    this.seed = seed === undefined ? Math.floor(Math.random() * TWO_POW_32) * 2097152 + Math.floor(Math.random() * 2097152) : checkSeed(seed);
    const lo = this.seed >>> 0;
    const hi = Math.floor(this.seed / TWO_POW_32) >>> 0;
    // Two splitmix32 streams, one per 32-bit half of the seed, xor-ed word by word.
    let a = lo;
    let b = hi ^ 0x6a09e667;
    const next = (state: number): [number, number] => {
      const st = (state + 0x9e3779b9) | 0;
      let z = st;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return [st, (z ^ (z >>> 16)) >>> 0];
    };
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      let za: number;
      let zb: number;
      [a, za] = next(a);
      [b, zb] = next(b);
      words.push((za ^ zb) | 0);
    }
    [this.s0, this.s1, this.s2, this.s3] = words;
    // xoshiro's only forbidden state; unreachable in practice but cheap to rule out.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** The next 32-bit output of xoshiro128**, as an unsigned integer in [0, 2^32). */
  nextUint32(): number {
    const s1 = this.s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** A double uniformly distributed in [0, 1) with 53 random bits (`np.random.random_sample`). */
  random(): number {
    const a = this.nextUint32() >>> 5; // 27 bits
    const b = this.nextUint32() >>> 6; // 26 bits
    return (a * 67108864 + b) * TWO_POW_MINUS_53;
  }

  /**
   * A double uniformly distributed in [low, high): `low + (high - low) * random()`, the formula of
   * `np.random.uniform` (like NumPy, `low > high` is allowed and samples (high, low]).
   */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.random();
  }

  /**
   * A normal deviate N(mean, std²) (`np.random.normal(loc=mean, scale=std)`), by Marsaglia's polar
   * method: draw u, v uniform in (-1, 1) until s = u² + v² is in (0, 1), then u·√(-2 ln s / s) and
   * v·√(-2 ln s / s) are two independent N(0, 1); the second is kept for the next call.
   *
   * @param mean - default 0.
   * @param std - default 1; must be >= 0 (ValueError otherwise, as NumPy's `scale < 0`).
   */
  normal(mean = 0, std = 1): number {
    if (!(std >= 0)) throw new ValueError(`RandomState.normal requires std >= 0, but std=${std}`);
    let z = this.spareNormal;
    if (z === z) {
      this.spareNormal = NaN;
    } else {
      let u: number;
      let v: number;
      let s: number;
      do {
        u = 2 * this.random() - 1;
        v = 2 * this.random() - 1;
        s = u * u + v * v;
      } while (s >= 1 || s === 0);
      const f = Math.sqrt((-2 * portableLog(s)) / s);
      z = u * f;
      this.spareNormal = v * f;
    }
    return mean + std * z;
  }

  /**
   * A random permutation of 0 .. n-1 (`np.random.permutation(n)`), by a Fisher-Yates shuffle
   * (i from n-1 down to 1 swaps element i with a uniform j in [0, i]).
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
      const j = Math.floor(this.random() * (i + 1));
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
 * `setRng(new RandomState(seed))` for reproducible initial weights.
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
