import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { RandomState, getRng, setRng } from '../dist/random.js';
import { ValueError } from '../dist/errors.js';

import { readFileSync } from 'node:fs';

// NumPy's own draws (test/fixtures/make_random_fixtures.py): RandomState must reproduce them.
const NUMPY = JSON.parse(readFileSync(new URL('./fixtures/random_numpy.json', import.meta.url), 'utf8'));

/** |a - b| within `ulps` units in the last place of a float64 (the Gaussian's log may differ in the last bit). */
function closeF64(actual, expected, what, ulps = 4) {
  assert.is(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const tol = ulps * Number.EPSILON * Math.max(Math.abs(expected[i]), 1e-300);
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `${what}[${i}]: got ${actual[i]}, NumPy ${expected[i]}`);
  }
}

function draws(rng, n, f) {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = f(rng);
  return out;
}

function moments(xs) {
  let mean = 0;
  for (const x of xs) mean += x;
  mean /= xs.length;
  let m2 = 0;
  let m4 = 0;
  for (const x of xs) {
    m2 += (x - mean) ** 2;
    m4 += (x - mean) ** 4;
  }
  m2 /= xs.length;
  m4 /= xs.length;
  return { mean, std: Math.sqrt(m2), kurtosis: m4 / (m2 * m2) };
}

function sequence(rng) {
  return [rng.random(), rng.uniform(-2, 5), rng.normal(), rng.normal(3, 0.5), rng.normal(), ...rng.permutation(10)];
}

const RandomStateSuite = suite('RandomState');

RandomStateSuite('the same seed gives the same random, uniform, normal and permutation values', () => {
  assert.equal(sequence(new RandomState(1234)), sequence(new RandomState(1234)));
});

RandomStateSuite('different seeds give different sequences', () => {
  const seen = new Set();
  for (const seed of [0, 1, 2, 3, 42, 1000, 2 ** 31, 2 ** 32 - 2, 2 ** 32 - 1]) {
    seen.add(new RandomState(seed).random());
  }
  assert.is(seen.size, 9);
});

RandomStateSuite('MT19937 words equal NumPy\'s for the same seed, across two regenerations of the state', () => {
  for (const [seed, want] of Object.entries(NUMPY.uint32)) {
    const rng = new RandomState(Number(seed));
    const words = Array.from({ length: 1250 }, () => rng.nextUint32());
    assert.equal(words.slice(0, 8), want.first, `seed ${seed}: first words`);
    assert.equal(words.slice(620, 630), want.at620, `seed ${seed}: words 620..629`);
    assert.equal(words.slice(1245, 1250), want.at1245, `seed ${seed}: words 1245..1249`);
  }
});

RandomStateSuite('random_sample, uniform, normal (with the cached second Gaussian) and permutation follow NumPy\'s stream', () => {
  const want = NUMPY.streams.seed42;
  const rng = new RandomState(42);
  // random_sample is exact: two words and exact float64 arithmetic
  assert.equal(Array.from({ length: 5 }, () => rng.random()), want.random_sample);
  assert.equal(Array.from({ length: 3 }, () => rng.uniform(-2, 5)), want['uniform(-2,5)']);
  closeF64(Array.from({ length: 7 }, () => rng.normal()), want['normal()'], 'normal()');
  closeF64(Array.from({ length: 4 }, () => rng.normal(3, 0.5)), want['normal(3,0.5)'], 'normal(3, 0.5)');
  assert.equal([...rng.permutation(10)], want['permutation(10)']);
  assert.equal([rng.randomSample(), rng.randomSample()], want.random_sample_after);
  assert.equal([...new RandomState(7).permutation(1000)].slice(0, 40), NUMPY.streams.seed7_permutation1000);
  const r = new RandomState(2024);
  closeF64(Array.from({ length: 2000 }, () => r.normal(0, 1)), NUMPY.streams.seed2024_normal2000, 'normal x2000');
});

RandomStateSuite('the fixture check can fail: one word off, or the Gaussians in the other order, is caught', () => {
  const rng = new RandomState(42);
  rng.nextUint32();
  assert.is.not(rng.random(), NUMPY.streams.seed42.random_sample[0]);
  const want = NUMPY.streams.seed42['normal()'];
  const g = new RandomState(42);
  for (let i = 0; i < 8; i++) g.random(); // random_sample(5) and uniform(size=3) come first
  const pair = [g.normal(), g.normal()];
  assert.is.not(pair[0], want[1]); // NumPy returns f*x2 first and caches f*x1
  assert.ok(Math.abs(pair[0] - want[0]) < 1e-12 && Math.abs(pair[1] - want[1]) < 1e-12);
});

RandomStateSuite('random() stays in [0, 1) with mean 1/2 and standard deviation 1/sqrt(12)', () => {
  const xs = draws(new RandomState(5), 200000, (r) => r.random());
  for (const x of xs) assert.ok(x >= 0 && x < 1, `random() gave ${x}`);
  const { mean, std } = moments(xs);
  assert.ok(Math.abs(mean - 0.5) < 0.003, `mean ${mean}`);
  assert.ok(Math.abs(std - 1 / Math.sqrt(12)) < 0.002, `std ${std}`);
});

RandomStateSuite('random() carries more than 32 random bits', () => {
  const xs = draws(new RandomState(6), 100, (r) => r.random());
  const fractional = xs.filter((x) => !Number.isInteger(x * 2 ** 32)).length;
  assert.ok(fractional > 90, `only ${fractional} of 100 draws have bits below 2^-32`);
});

RandomStateSuite('uniform(low, high) stays in [low, high) and is centred on (low + high)/2', () => {
  const xs = draws(new RandomState(7), 100000, (r) => r.uniform(-3, 5));
  for (const x of xs) assert.ok(x >= -3 && x < 5, `uniform gave ${x}`);
  const { mean, std } = moments(xs);
  assert.ok(Math.abs(mean - 1) < 0.03, `mean ${mean}`);
  assert.ok(Math.abs(std - 8 / Math.sqrt(12)) < 0.02, `std ${std}`);
});

RandomStateSuite('normal(mean, std) has that mean and standard deviation and a Gaussian shape', () => {
  const xs = draws(new RandomState(8), 200000, (r) => r.normal(2, 0.5));
  const { mean, std, kurtosis } = moments(xs);
  assert.ok(Math.abs(mean - 2) < 0.005, `mean ${mean}`);
  assert.ok(Math.abs(std - 0.5) < 0.005, `std ${std}`);
  assert.ok(Math.abs(kurtosis - 3) < 0.1, `kurtosis ${kurtosis}`);
  const within1 = xs.filter((x) => Math.abs(x - 2) < 0.5).length / xs.length;
  assert.ok(Math.abs(within1 - 0.682689) < 0.005, `P(|z| < 1) = ${within1}`);
  const within2 = xs.filter((x) => Math.abs(x - 2) < 1).length / xs.length;
  assert.ok(Math.abs(within2 - 0.954500) < 0.003, `P(|z| < 2) = ${within2}`);
});

RandomStateSuite('normal() defaults to the standard normal', () => {
  const { mean, std } = moments(draws(new RandomState(9), 100000, (r) => r.normal()));
  assert.ok(Math.abs(mean) < 0.015, `mean ${mean}`);
  assert.ok(Math.abs(std - 1) < 0.015, `std ${std}`);
});

RandomStateSuite('normal() refuses a negative std with ValueError', () => {
  assert.throws(() => new RandomState(1).normal(0, -1), (e) => e instanceof ValueError && /std/.test(e.message));
});

RandomStateSuite('permutation(n) is a permutation of 0 .. n-1 in an Int32Array', () => {
  const p = new RandomState(10).permutation(1000);
  assert.instance(p, Int32Array);
  assert.equal([...p].sort((a, b) => a - b), Array.from({ length: 1000 }, (_, i) => i));
  assert.is.not([...p].join(','), Array.from({ length: 1000 }, (_, i) => i).join(','));
  assert.equal([...new RandomState(10).permutation(0)], []);
});

RandomStateSuite('permutation(3) yields all six orders about equally often', () => {
  const rng = new RandomState(11);
  const counts = new Map();
  for (let i = 0; i < 60000; i++) {
    const key = [...rng.permutation(3)].join('');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  assert.is(counts.size, 6);
  for (const [key, c] of counts) assert.ok(Math.abs(c - 10000) < 400, `order ${key} drawn ${c} times`);
});

RandomStateSuite('seed must be an integer in [0, 2^32 - 1], as in NumPy', () => {
  assert.throws(() => new RandomState('1'), (e) => e instanceof TypeError && /seed/.test(e.message));
  for (const bad of [-1, 1.5, NaN, Infinity, 2 ** 32, 2 ** 53]) {
    assert.throws(() => new RandomState(bad), (e) => e instanceof ValueError && /seed/.test(e.message) && e.message.includes(String(bad)), `seed=${bad}`);
  }
  assert.is(new RandomState(2 ** 32 - 1).seed, 2 ** 32 - 1);
});

RandomStateSuite('an unseeded generator picks a random seed that reproduces its sequence', () => {
  const a = new RandomState();
  const b = new RandomState();
  assert.ok(Number.isSafeInteger(a.seed) && a.seed >= 0);
  assert.is.not(a.seed, b.seed);
  assert.equal(sequence(new RandomState(a.seed)), sequence(a));
});

RandomStateSuite.run();

const RngSuite = suite('getRng and setRng');

RngSuite('getRng returns one RandomState until setRng replaces it', () => {
  const before = getRng();
  assert.instance(before, RandomState);
  assert.is(getRng(), before);
  const mine = new RandomState(3);
  setRng(mine);
  assert.is(getRng(), mine);
});

RngSuite('setRng refuses anything but a RandomState with TypeError', () => {
  const keep = getRng();
  for (const bad of [undefined, null, 42, { random: () => 0.5 }, Math.random]) {
    assert.throws(() => setRng(bad), (e) => e instanceof TypeError && /RandomState/.test(e.message));
  }
  assert.is(getRng(), keep);
});

RngSuite.run();
