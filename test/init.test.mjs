import { suite } from 'uvu';
import { readFileSync } from 'node:fs';
import * as assert from 'uvu/assert';
import * as init from '../dist/init.js';
import { RandomState, setRng } from '../dist/random.js';
import { NotImplementedError, RuntimeError, ValueError } from '../dist/errors.js';

/** np.mean / np.std (ddof=0) / min / max, in float64. */
function stats(a) {
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const v of a.data) {
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mean = sum / a.data.length;
  let ss = 0;
  for (const v of a.data) ss += (v - mean) ** 2;
  return { mean, std: Math.sqrt(ss / a.data.length), min, max };
}

function seeded(seed, f) {
  setRng(new RandomState(seed));
  return f();
}

function between(value, lo, hi, what, { loInclusive = false, hiInclusive = false } = {}) {
  const okLo = loInclusive ? value >= lo : value > lo;
  const okHi = hiInclusive ? value <= hi : value < hi;
  assert.ok(okLo && okHi, `${what} = ${value}, expected in ${loInclusive ? '[' : '('}${lo}, ${hi}${hiInclusive ? ']' : ')'}`);
}

/** Lasagne's uniform-bound assertions: bound·-1 <= min < -0.9·bound and 0.9·bound < max <= bound. */
function assertUniformBounds(a, lo, loInner, hiInner, hi) {
  const { min, max } = stats(a);
  between(min, lo, loInner, 'min', { loInclusive: true });
  between(max, hiInner, hi, 'max', { hiInclusive: true });
}

/** Max |M - expected·I| where M = S·Sᵀ (rows) or Sᵀ·S (columns) of a 2-D view of the sample, in float64. */
function gramError(data, rows, cols, byRows, expected) {
  const k = byRows ? rows : cols;
  const n = byRows ? cols : rows;
  const at = byRows ? (i, l) => data[i * cols + l] : (i, l) => data[l * cols + i];
  let err = 0;
  for (let i = 0; i < k; i++) {
    for (let j = i; j < k; j++) {
      let dot = 0;
      for (let l = 0; l < n; l++) dot += at(i, l) * at(j, l);
      err = Math.max(err, Math.abs(dot - (i === j ? expected : 0)));
    }
  }
  return err;
}

function throwsWith(fn, Type, pattern) {
  assert.throws(fn, (e) => {
    assert.instance(e, Type);
    assert.match(e.message, pattern);
    return true;
  });
}

const C01b = suite('Glorot and He with c01b: true (tests/test_init.py, c01b cases)');

C01b('GlorotNormal c01b on (25,2,2,25) has mean in ±0.01 and std in (0.09, 0.11)', () => {
  const s = stats(seeded(1, () => new init.GlorotNormal({ c01b: true }).sample([25, 2, 2, 25])));
  between(s.mean, -0.01, 0.01, 'mean');
  between(s.std, 0.09, 0.11, 'std');
});

C01b('GlorotUniform c01b on (75,2,2,75) fills [-0.1, 0.1] up to its ends', () => {
  assertUniformBounds(seeded(2, () => new init.GlorotUniform({ c01b: true }).sample([75, 2, 2, 75])), -0.1, -0.09, 0.09, 0.1);
});

C01b('HeNormal c01b on (25,2,2,25) has mean in ±0.01 and std in (0.09, 0.11)', () => {
  const s = stats(seeded(3, () => new init.HeNormal({ c01b: true }).sample([25, 2, 2, 25])));
  between(s.mean, -0.01, 0.01, 'mean');
  between(s.std, 0.09, 0.11, 'std');
});

C01b('HeUniform c01b on (75,2,2,75) fills [-0.1, 0.1] up to its ends', () => {
  assertUniformBounds(seeded(4, () => new init.HeUniform({ c01b: true }).sample([75, 2, 2, 75])), -0.1, -0.09, 0.09, 0.1);
});

C01b('all four refuse shapes of length other than 4 with RuntimeError', () => {
  for (const Cls of [init.GlorotNormal, init.GlorotUniform, init.HeNormal, init.HeUniform]) {
    for (const shape of [[100], [100, 100], [100, 100, 100]]) {
      throwsWith(() => new Cls({ c01b: true }).sample(shape), RuntimeError, /If c01b is True, only shapes of length 4 are accepted/);
    }
  }
});

C01b('c01b reads fans as (C, rows, cols, F) where bc01 reads (F, C, rows, cols)', () => {
  let captured = null;
  class Capture extends init.Initializer {
    constructor({ std }) {
      super();
      captured = std;
    }
    sample(shape) {
      return { data: new Float32Array(shape.reduce((a, b) => a * b, 1)), shape: [...shape] };
    }
  }
  new init.Glorot(Capture, { c01b: true }).sample([16, 3, 3, 32]);
  assert.is(captured, Math.sqrt(2 / ((16 + 32) * 9)));
  new init.Glorot(Capture).sample([32, 16, 3, 3]);
  assert.is(captured, Math.sqrt(2 / ((32 + 16) * 9)));
  new init.Glorot(Capture).sample([16, 3, 3, 32]); // c01b weights read as bc01 by mistake: (C+k)·(k·F)
  assert.is(captured, Math.sqrt(2 / ((16 + 3) * 96)));
  new init.He(Capture, { c01b: true, gain: 2 }).sample([16, 3, 3, 32]);
  assert.is(captured, 2 * Math.sqrt(1 / (16 * 9)));
  new init.He(Capture).sample([32, 16, 3, 3]);
  assert.is(captured, Math.sqrt(1 / (16 * 9)));
  new init.He(Capture).sample([300, 3]); // 2-D: fan_in = shape[0] (NINLayer_c01b's (U, C) quirk)
  assert.is(captured, Math.sqrt(1 / 300));
});

C01b.run();

const GlorotSuite = suite('Glorot, GlorotNormal and GlorotUniform');

GlorotSuite('GlorotUniform on (150,450) fills [-0.1, 0.1]', () => {
  assertUniformBounds(seeded(5, () => new init.GlorotUniform().sample([150, 450])), -0.1, -0.09, 0.09, 0.1);
});

GlorotSuite('GlorotUniform on (150,150,2) fills [-0.1, 0.1]', () => {
  assertUniformBounds(seeded(6, () => new init.GlorotUniform().sample([150, 150, 2])), -0.1, -0.09, 0.09, 0.1);
});

GlorotSuite('GlorotUniform with gain 10 on (150,450) fills [-1, 1]', () => {
  assertUniformBounds(seeded(7, () => new init.GlorotUniform({ gain: 10.0 }).sample([150, 450])), -1, -0.9, 0.9, 1);
});

GlorotSuite("GlorotUniform with gain 'relu' on (100,100) has std in (0.132, 0.152)", () => {
  between(stats(seeded(8, () => new init.GlorotUniform({ gain: 'relu' }).sample([100, 100]))).std, 0.132, 0.152, 'std');
});

GlorotSuite('GlorotNormal on (100,100) has std in (0.09, 0.11)', () => {
  between(stats(seeded(9, () => new init.GlorotNormal().sample([100, 100]))).std, 0.09, 0.11, 'std');
});

GlorotSuite('GlorotNormal on (50,50,2) has std in (0.09, 0.11)', () => {
  between(stats(seeded(10, () => new init.GlorotNormal().sample([50, 50, 2]))).std, 0.09, 0.11, 'std');
});

GlorotSuite('GlorotNormal with gain 10 on (100,100) has std in (0.9, 1.1)', () => {
  between(stats(seeded(11, () => new init.GlorotNormal({ gain: 10.0 }).sample([100, 100]))).std, 0.9, 1.1, 'std');
});

GlorotSuite("GlorotNormal with gain 'relu' on (100,100) has std in (0.132, 0.152)", () => {
  between(stats(seeded(12, () => new init.GlorotNormal({ gain: 'relu' }).sample([100, 100]))).std, 0.132, 0.152, 'std');
});

GlorotSuite('Glorot with an explicit initializer class samples from that class', () => {
  assert.is(new init.Glorot(init.Uniform).initializer, init.Uniform);
  assertUniformBounds(seeded(13, () => new init.Glorot(init.Uniform).sample([150, 450])), -0.1, -0.09, 0.09, 0.1);
  between(stats(seeded(14, () => new init.Glorot(init.Normal).sample([100, 100]))).std, 0.09, 0.11, 'std');
});

GlorotSuite("gain 'relu' resolves to sqrt(2) and c01b defaults to false", () => {
  const g = new init.GlorotUniform({ gain: 'relu' });
  assert.is(g.gain, Math.SQRT2);
  assert.is(g.c01b, false);
  assert.is(new init.GlorotNormal().gain, 1);
  assert.is(new init.GlorotNormal().initializer, init.Normal);
});

GlorotSuite('Glorot refuses shapes of length < 2 with RuntimeError', () => {
  for (const ini of [new init.GlorotUniform(), new init.GlorotNormal(), new init.Glorot(init.Normal)]) {
    throwsWith(() => ini.sample([100]), RuntimeError, /This initializer only works with shapes of length >= 2/);
  }
});

GlorotSuite('Glorot refuses an initializer instance or a non-Initializer with TypeError', () => {
  throwsWith(() => new init.Glorot(new init.Normal()), TypeError, /initializer/);
  throwsWith(() => new init.He(Object), TypeError, /initializer/);
});

GlorotSuite.run();

const HeSuite = suite('He, HeNormal and HeUniform');

HeSuite('HeNormal on (100,100) has std in (0.09, 0.11)', () => {
  between(stats(seeded(15, () => new init.HeNormal().sample([100, 100]))).std, 0.09, 0.11, 'std');
});

HeSuite("HeNormal with gain 'relu' on (200,50) has std in (0.07, 0.12)", () => {
  between(stats(seeded(16, () => new init.HeNormal({ gain: 'relu' }).sample([200, 50]))).std, 0.07, 0.12, 'std');
});

HeSuite('HeUniform on (300,200) fills [-0.1, 0.1]', () => {
  assertUniformBounds(seeded(17, () => new init.HeUniform().sample([300, 200])), -0.1, -0.09, 0.09, 0.1);
});

HeSuite('HeUniform with gain 10 on (300,200) fills [-1, 1]', () => {
  assertUniformBounds(seeded(18, () => new init.HeUniform({ gain: 10.0 }).sample([300, 200])), -1, -0.9, 0.9, 1);
});

HeSuite("HeUniform with gain 'relu' on (100,100) has std in (0.1, 0.2)", () => {
  between(stats(seeded(19, () => new init.HeUniform({ gain: 'relu' }).sample([100, 100]))).std, 0.1, 0.2, 'std');
});

HeSuite('He refuses shapes of length < 2 with RuntimeError', () => {
  for (const ini of [new init.HeUniform(), new init.HeNormal(), new init.He(init.Uniform)]) {
    throwsWith(() => ini.sample([100]), RuntimeError, /This initializer only works with shapes of length >= 2/);
  }
});

HeSuite.run();

const Basic = suite('Normal, Uniform and Constant');

Basic('Normal on (100,200) has mean in ±0.001 and std in (0.009, 0.011)', () => {
  const s = stats(seeded(20, () => new init.Normal().sample([100, 200])));
  between(s.mean, -0.001, 0.001, 'mean');
  between(s.std, 0.009, 0.011, 'std');
});

Basic('Normal with std and mean samples N(mean, std)', () => {
  const s = stats(seeded(21, () => new init.Normal({ std: 2, mean: -3 }).sample([200, 100])));
  between(s.mean, -3.05, -2.95, 'mean');
  between(s.std, 1.95, 2.05, 'std');
});

Basic('Uniform(1.0) on (300,400) fills [-1, 1]', () => {
  assertUniformBounds(seeded(22, () => new init.Uniform({ range: 1.0 }).sample([300, 400])), -1, -0.9, 0.9, 1);
});

Basic('Uniform((0.0, 1.0)) on (300,400) fills [0, 1]', () => {
  assertUniformBounds(seeded(23, () => new init.Uniform({ range: [0.0, 1.0] }).sample([300, 400])), 0, 0.1, 0.9, 1);
});

Basic('Uniform(std=1.0, mean=5.0) on (300,400) has mean in (4.9, 5.1) and std in (0.9, 1.1)', () => {
  const s = stats(seeded(24, () => new init.Uniform({ std: 1.0, mean: 5.0 }).sample([300, 400])));
  between(s.mean, 4.9, 5.1, 'mean');
  between(s.std, 0.9, 1.1, 'std');
});

Basic('Uniform resolves range exactly as Lasagne: ±r, (a, b), or mean ± sqrt(3)·std', () => {
  assert.equal([...new init.Uniform().range], [-0.01, 0.01]);
  assert.equal([...new init.Uniform({ range: 2 }).range], [-2, 2]);
  assert.equal([...new init.Uniform({ range: [0.5, 3] }).range], [0.5, 3]);
  assert.equal([...new init.Uniform({ std: 2, mean: 1, range: 9 }).range], [1 - Math.sqrt(3) * 2, 1 + Math.sqrt(3) * 2]);
  assert.equal([...new init.Uniform({ mean: 7 }).range], [-0.01, 0.01]); // mean is ignored without std
  assert.equal([...new init.Uniform({ std: null, range: 3 }).range], [-3, 3]);
});

Basic('Constant(1.0) on (10,20) is all ones; the default is all zeros', () => {
  const a = new init.Constant({ val: 1.0 }).sample([10, 20]);
  assert.equal(a.shape, [10, 20]);
  assert.ok(a.data.every((v) => v === 1));
  assert.ok(new init.Constant().sample([3, 4]).data.every((v) => v === 0));
  assert.ok(new init.Constant({ val: 0.1 }).sample([5]).data.every((v) => v === Math.fround(0.1)));
});

Basic('Initializer().sample raises NotImplementedError', () => {
  throwsWith(() => new init.Initializer().sample([2, 3]), NotImplementedError, /sample/);
});

Basic.run();

const SparseSuite = suite('Sparse');

SparseSuite('Sparse(sparsity=0.1) on (10,20) has exactly 20 non-zeros', () => {
  const a = seeded(25, () => new init.Sparse({ sparsity: 0.1 }).sample([10, 20]));
  assert.is(a.data.filter((v) => v !== 0).length, 20);
});

SparseSuite('every column gets int(sparsity·n_in) non-zeros drawn with the given std', () => {
  const a = seeded(26, () => new init.Sparse({ sparsity: 0.3, std: 2 }).sample([50, 400]));
  const values = [];
  for (let k = 0; k < 400; k++) {
    let nz = 0;
    for (let i = 0; i < 50; i++) {
      const v = a.data[i * 400 + k];
      if (v !== 0) {
        nz++;
        values.push(v);
      }
    }
    assert.is(nz, 15, `column ${k}`);
  }
  between(stats({ data: values }).std, 1.9, 2.1, 'std of the non-zeros');
  const rowsHit = new Set();
  for (let i = 0; i < 50; i++) if (a.data.slice(i * 400, i * 400 + 400).some((v) => v !== 0)) rowsHit.add(i);
  assert.is(rowsHit.size, 50);
});

SparseSuite('Sparse refuses shapes of length other than 2 with RuntimeError', () => {
  for (const shape of [[100], [10, 10, 10]]) {
    throwsWith(() => new init.Sparse().sample(shape), RuntimeError, /sparse initializer only works with shapes of length 2/);
  }
});

SparseSuite.run();

const OrthogonalSuite = suite('Orthogonal');

OrthogonalSuite('Orthogonal on (100,200) has S·Sᵀ = I within 1e-6', () => {
  const a = seeded(27, () => new init.Orthogonal().sample([100, 200]));
  assert.ok(gramError(a.data, 100, 200, true, 1) <= 1e-6);
});

OrthogonalSuite('Orthogonal on (200,100) has Sᵀ·S = I within 1e-6', () => {
  const a = seeded(28, () => new init.Orthogonal().sample([200, 100]));
  assert.ok(gramError(a.data, 200, 100, false, 1) <= 1e-6);
});

OrthogonalSuite('Orthogonal with gain 2 gives S·Sᵀ = 4I', () => {
  const a = seeded(29, () => new init.Orthogonal({ gain: 2 }).sample([100, 200]));
  assert.ok(gramError(a.data, 100, 200, true, 4) <= 1e-6);
});

OrthogonalSuite("Orthogonal with gain 'relu' gives S·Sᵀ = 2I", () => {
  const a = seeded(30, () => new init.Orthogonal({ gain: 'relu' }).sample([100, 200]));
  assert.ok(gramError(a.data, 100, 200, true, 2) <= 1e-6);
});

OrthogonalSuite('Orthogonal on (100,50,80) reshaped to (100,4000) has orthonormal rows', () => {
  const a = seeded(31, () => new init.Orthogonal().sample([100, 50, 80]));
  assert.equal(a.shape, [100, 50, 80]);
  assert.ok(gramError(a.data, 100, 4000, true, 1) <= 1e-6);
});

OrthogonalSuite('square samples are orthogonal both ways and not the identity', () => {
  const a = seeded(32, () => new init.Orthogonal().sample([64, 64]));
  assert.ok(gramError(a.data, 64, 64, true, 1) <= 1e-6);
  assert.ok(gramError(a.data, 64, 64, false, 1) <= 1e-6);
  const diag = Array.from({ length: 64 }, (_, i) => Math.abs(a.data[i * 65]));
  assert.ok(diag.some((v) => v < 0.5));
});

OrthogonalSuite('entries are spread like a random orthogonal matrix (each ≈ N(0, 1/n))', () => {
  const s = stats(seeded(33, () => new init.Orthogonal().sample([400, 400])));
  between(s.mean, -0.002, 0.002, 'mean');
  between(s.std, 0.049, 0.051, 'std');
});

OrthogonalSuite('signs are unbiased: the top-left entry is positive about half the time (Haar, no QR sign bias)', () => {
  setRng(new RandomState(37));
  for (const shape of [[4, 4], [6, 3], [3, 6]]) {
    let positive = 0;
    for (let i = 0; i < 400; i++) if (new init.Orthogonal().sample(shape).data[0] > 0) positive++;
    between(positive, 160, 240, `positive top-left entries of ${400} samples of shape [${shape}]`);
  }
});

OrthogonalSuite('Orthogonal refuses shapes of length < 2 with RuntimeError', () => {
  throwsWith(() => new init.Orthogonal().sample([100]), RuntimeError, /Only shapes of length 2 or more are supported\./);
});

OrthogonalSuite.run();

function everyInitializer() {
  return [
    new init.Constant(),
    new init.Constant({ val: 0.5 }),
    new init.Normal(),
    new init.Uniform(),
    new init.Uniform({ range: [0, 1] }),
    new init.Uniform({ std: 1 }),
    new init.Glorot(init.Normal),
    new init.GlorotNormal(),
    new init.GlorotUniform(),
    new init.He(init.Uniform),
    new init.HeNormal(),
    new init.HeUniform(),
    new init.Orthogonal(),
    new init.Sparse(),
  ];
}

const Common = suite('every initializer');

Common('every initializer returns a float32 array of shape (12,23)', () => {
  setRng(new RandomState(34));
  for (const ini of everyInitializer()) {
    const a = ini.sample([12, 23]);
    assert.equal(a.shape, [12, 23], String(ini));
    assert.instance(a.data, Float32Array, String(ini));
    assert.is(a.data.length, 12 * 23, String(ini));
    assert.ok(a.data.every(Number.isFinite), String(ini));
  }
});

Common('the sample does not alias the caller’s shape array', () => {
  const shape = [3, 4];
  const a = new init.Normal().sample(shape);
  shape[0] = 99;
  assert.equal(a.shape, [3, 4]);
});

Common('the same seed gives identical values and different seeds differ', () => {
  for (const ini of everyInitializer()) {
    if (ini instanceof init.Constant) continue;
    const a = seeded(35, () => ini.sample([12, 23]));
    const b = seeded(35, () => ini.sample([12, 23]));
    const c = seeded(36, () => ini.sample([12, 23]));
    assert.equal([...a.data], [...b.data], String(ini));
    assert.is.not([...a.data].join(), [...c.data].join(), String(ini));
  }
});

Common('shape must be an array of positive integers (ValueError naming shape)', () => {
  for (const ini of everyInitializer()) {
    for (const bad of [[0, 3], [-1, 3], [2.5, 3], ['2', 3], [NaN, 3], 5, '23', null, undefined]) {
      throwsWith(() => ini.sample(bad), ValueError, /shape/);
    }
  }
});

Common('unknown options raise TypeError with the closest valid name', () => {
  throwsWith(() => new init.Constant({ value: 1 }), TypeError, /unknown option 'value' for Constant; did you mean 'val'\?/);
  throwsWith(() => new init.Normal({ sd: 1 }), TypeError, /unknown option 'sd' for Normal; did you mean 'std'\?/);
  throwsWith(() => new init.Uniform({ Range: 1 }), TypeError, /did you mean 'range'\?/);
  throwsWith(() => new init.GlorotUniform({ c01B: true }), TypeError, /unknown option 'c01B' for GlorotUniform; did you mean 'c01b'\?/);
  throwsWith(() => new init.HeNormal({ gian: 2 }), TypeError, /for HeNormal; did you mean 'gain'\?/);
  throwsWith(() => new init.Orthogonal({ gains: 2 }), TypeError, /did you mean 'gain'\?/);
  throwsWith(() => new init.Sparse({ sparcity: 0.2 }), TypeError, /did you mean 'sparsity'\?/);
  throwsWith(() => new init.GlorotUniform('relu'), TypeError, /options must be an object/);
});

Common("a gain string other than 'relu' is a ValueError naming gain", () => {
  for (const make of [
    (gain) => new init.GlorotUniform({ gain }),
    (gain) => new init.GlorotNormal({ gain }),
    (gain) => new init.HeUniform({ gain }),
    (gain) => new init.HeNormal({ gain }),
    (gain) => new init.Orthogonal({ gain }),
  ]) {
    throwsWith(() => make('tanh'), ValueError, /gain='tanh'/);
    throwsWith(() => make([2]), TypeError, /gain/);
    throwsWith(() => make(NaN), ValueError, /gain=NaN/);
  }
  throwsWith(() => new init.GlorotUniform({ gain: -1 }), ValueError, /gain >= 0/);
  assert.is(new init.Orthogonal({ gain: -1 }).gain, -1);
});

Common('option values are type- and range-checked, naming the option and the value', () => {
  throwsWith(() => new init.Constant({ val: '1' }), TypeError, /val='1'/);
  throwsWith(() => new init.Constant({ val: Infinity }), ValueError, /val=Infinity/);
  throwsWith(() => new init.Normal({ std: -0.1 }), ValueError, /std >= 0, but std=-0.1/);
  throwsWith(() => new init.Normal({ mean: NaN }), ValueError, /mean=NaN/);
  throwsWith(() => new init.Uniform({ range: [1, 2, 3] }), ValueError, /range=\[1, 2, 3\]/);
  throwsWith(() => new init.Uniform({ range: '0.1' }), TypeError, /range='0.1'/);
  throwsWith(() => new init.Uniform({ range: [0, '1'] }), TypeError, /range\[1\]/);
  throwsWith(() => new init.Uniform({ std: -1 }), ValueError, /std >= 0/);
  throwsWith(() => new init.GlorotUniform({ c01b: 'yes' }), TypeError, /c01b='yes'/);
  throwsWith(() => new init.Sparse({ sparsity: 1.5 }), ValueError, /sparsity=1.5/);
  throwsWith(() => new init.Sparse({ sparsity: -0.1 }), ValueError, /sparsity=-0.1/);
  throwsWith(() => new init.Sparse({ std: -1 }), ValueError, /std=-1/);
});

Common('toString names the class and its resolved options', () => {
  assert.is(String(new init.GlorotUniform({ gain: 2, c01b: true })), 'GlorotUniform(gain=2, c01b=true)');
  assert.is(String(new init.He(init.Normal)), 'He(Normal, gain=1, c01b=false)');
  assert.is(String(new init.Uniform({ range: [0, 1] })), 'Uniform(range=[0, 1])');
  assert.is(String(new init.Constant({ val: 3 })), 'Constant(val=3)');
});

Common.run();

// Lasagne's initial weights after set_rng(np.random.RandomState(1234)), in the same order
// (test/fixtures/make_random_fixtures.py writes them with NumPy).
const NumpySuite = suite('initializers reproduce Lasagne with NumPy\'s RandomState');
const NUMPY_INIT = JSON.parse(readFileSync(new URL('./fixtures/random_numpy.json', import.meta.url), 'utf8')).init;

NumpySuite('Uniform, Normal, Glorot*, He* and Sparse give Lasagne\'s float32 values for the same seed and order', () => {
  setRng(new RandomState(NUMPY_INIT.seed));
  let exact = 0;
  let total = 0;
  for (const c of NUMPY_INIT.cases) {
    const initializer = new init[c.init](c.options);
    const a = initializer.sample(c.shape);
    assert.equal(a.shape, c.shape, `${c.init} shape`);
    assert.is(a.data.length, c.values.length);
    for (let i = 0; i < c.values.length; i++) {
      total++;
      if (a.data[i] === c.values[i]) {
        exact++;
        continue;
      }
      // a Gaussian's log may differ from glibc's in the last float64 bit: at most one float32 step
      const step = Math.abs(c.values[i]) * 2 ** -23;
      assert.ok(Math.abs(a.data[i] - c.values[i]) <= step, `${c.init}${JSON.stringify(c.options)}[${i}]: got ${a.data[i]}, Lasagne ${c.values[i]}`);
    }
  }
  assert.ok(exact >= total - 2, `${exact} of ${total} values bit-equal`);
});

NumpySuite('another seed gives other values (the check can fail)', () => {
  setRng(new RandomState(NUMPY_INIT.seed + 1));
  const c = NUMPY_INIT.cases[0];
  const a = new init[c.init](c.options).sample(c.shape);
  assert.ok(c.values.some((v, i) => v !== a.data[i]));
});

NumpySuite.run();
