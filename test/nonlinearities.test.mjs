import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as nl from '../dist/nonlinearities.js';
import { RandomState } from '../dist/random.js';
import { ValueError } from '../dist/errors.js';

const SELU_SCALE = 1.0507009873554804934193349852946;
const SELU_SCALE_NEG = 1.6732632423543772848170429916717;

/** X0 = uniform(-3, 3, (10, 10)) as float32, as in Lasagne's tests/test_nonlinearities.py. */
function x0() {
  const rng = new RandomState(20150813);
  const data = new Float32Array(100);
  for (let i = 0; i < 100; i++) data[i] = rng.uniform(-3, 3);
  return { data, shape: [10, 10] };
}

// The float64 references, written the naive (Theano / NumPy) way on purpose.
const reference = {
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  tanh: (x) => Math.tanh(x),
  scaledTanh: (x, scaleIn, scaleOut) => Math.tanh(x * scaleIn) * scaleOut,
  rectify: (x) => 0.5 * (x + Math.abs(x)),
  leakyRectify: (x, a) => 0.5 * (1 + a) * x + 0.5 * (1 - a) * Math.abs(x),
  elu: (x) => (x > 0 ? x : Math.exp(x) - 1),
  selu: (x, scale, scaleNeg) => scale * (x > 0 ? x : scaleNeg * (Math.exp(x) - 1)),
  softplus: (x) => Math.log(1 + Math.exp(x)),
  linear: (x) => x,
};

function softmaxReference(a) {
  const [rows, cols] = a.shape;
  const out = [];
  for (let r = 0; r < rows; r++) {
    const e = Array.from(a.data.slice(r * cols, (r + 1) * cols), Math.exp);
    const sum = e.reduce((s, v) => s + v, 0);
    out.push(...e.map((v) => v / sum));
  }
  return out;
}

/** np.allclose(actual, expected) with NumPy's defaults (rtol 1e-5, atol 1e-8). */
function assertAllclose(actual, expected, what, rtol = 1e-5, atol = 1e-8) {
  assert.is(actual.length, expected.length, what);
  for (let i = 0; i < expected.length; i++) {
    const ok = Math.abs(actual[i] - expected[i]) <= atol + rtol * Math.abs(expected[i]);
    assert.ok(ok, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

function throwsWith(fn, Type, pattern) {
  assert.throws(fn, (e) => {
    assert.instance(e, Type);
    assert.match(e.message, pattern);
    return true;
  });
}

const Values = suite('nonlinearities on X0 = uniform(-3, 3, (10, 10)) (tests/test_nonlinearities.py)');

const cases = [
  ['sigmoid', nl.sigmoid, (x) => reference.sigmoid(x)],
  ['tanh', nl.tanh, (x) => reference.tanh(x)],
  ['ScaledTanH(scaleIn=0.5, scaleOut=2.27)', new nl.ScaledTanH({ scaleIn: 0.5, scaleOut: 2.27 }), (x) => reference.scaledTanh(x, 0.5, 2.27)],
  ['ScaledTanh() (alias, defaults 1 and 1)', new nl.ScaledTanh(), (x) => reference.scaledTanh(x, 1, 1)],
  ['rectify', nl.rectify, (x) => reference.rectify(x)],
  ['leakyRectify', nl.leakyRectify, (x) => reference.leakyRectify(x, 0.01)],
  ['veryLeakyRectify', nl.veryLeakyRectify, (x) => reference.leakyRectify(x, 1 / 3)],
  ['LeakyRectify(leakiness=0.1)', new nl.LeakyRectify({ leakiness: 0.1 }), (x) => reference.leakyRectify(x, 0.1)],
  ['LeakyRectify(leakiness=0)', new nl.LeakyRectify({ leakiness: 0 }), (x) => reference.rectify(x)],
  ['elu', nl.elu, (x) => reference.elu(x)],
  ['selu', nl.selu, (x) => reference.selu(x, SELU_SCALE, SELU_SCALE_NEG)],
  ['SELU(scale=1, scaleNeg=0)', new nl.SELU({ scale: 1, scaleNeg: 0 }), (x) => reference.rectify(x)],
  ['SELU(scale=1.21, scaleNeg=0.12)', new nl.SELU({ scale: 1.21, scaleNeg: 0.12 }), (x) => reference.selu(x, 1.21, 0.12)],
  ['SELU() (defaults 1 and 1 = elu)', new nl.SELU(), (x) => reference.elu(x)],
  ['softplus', nl.softplus, (x) => reference.softplus(x)],
  ['linear', nl.linear, (x) => reference.linear(x)],
  ['identity', nl.identity, (x) => reference.linear(x)],
];

for (const [name, f, ref] of cases) {
  Values(`${name} matches its float64 formula`, () => {
    const x = x0();
    const out = f(x);
    assert.equal(out.shape, [10, 10]);
    assert.instance(out.data, Float32Array);
    assertAllclose(out.data, Array.from(x.data, ref), name);
  });
}

Values('softmax matches exp(x)/sum(exp(x)) row by row and each row sums to 1', () => {
  const x = x0();
  const out = nl.softmax(x);
  assert.equal(out.shape, [10, 10]);
  assertAllclose(out.data, softmaxReference(x), 'softmax');
  for (let r = 0; r < 10; r++) {
    const sum = out.data.slice(r * 10, r * 10 + 10).reduce((s, v) => s + v, 0);
    assert.ok(Math.abs(sum - 1) < 1e-6, `row ${r} sums to ${sum}`);
  }
});

Values('LeakyRectify(leakiness=0) and SELU(scale=1, scaleNeg=0) equal rectify exactly', () => {
  const x = x0();
  const expected = [...nl.rectify(x).data];
  assert.equal([...new nl.LeakyRectify({ leakiness: 0 })(x).data], expected);
  assert.equal([...new nl.SELU({ scale: 1, scaleNeg: 0 })(x).data], expected);
  assert.ok(expected.some((v) => v === 0) && expected.some((v) => v > 0));
});

Values('LeakyRectify(leakiness=0) is rectify bit for bit, signed zeros and infinities included', () => {
  const x = { data: new Float32Array([-Infinity, -2, -0, 0, 1.5, Infinity]), shape: [6] };
  const a = nl.rectify(x).data;
  const b = new nl.LeakyRectify({ leakiness: 0 })(x).data;
  for (let i = 0; i < a.length; i++) assert.ok(Object.is(a[i], b[i]), `x=${x.data[i]}: ${a[i]} vs ${b[i]}`);
  assert.ok(Object.is(a[0], 0));
});

Values('the input is left untouched and a new array is returned', () => {
  const x = x0();
  const copy = [...x.data];
  for (const [name, f] of [...cases, ['softmax', nl.softmax]]) {
    const out = f(x);
    assert.is.not(out, x, name);
    assert.is.not(out.data, x.data, name);
    assert.equal([...x.data], copy, name);
  }
});

Values.run();

const Stable = suite('numerically stable formulas');

const extremes = { data: new Float32Array([-1000, -100, -30, -1e-8, 0, 1e-8, 30, 100, 1000]), shape: [9] };

Stable('softplus(x) is x for large x and e^x for very negative x, never Infinity', () => {
  const out = nl.softplus(extremes).data;
  assert.equal([...out.slice(6)], [30, 100, 1000]);
  assert.is(out[0], 0);
  assert.is(out[1], Math.fround(Math.exp(-100)));
  assert.is(out[4], Math.fround(Math.LN2));
  assert.ok(out.every(Number.isFinite));
});

Stable('sigmoid saturates to exactly 0 and 1 without NaN', () => {
  const out = nl.sigmoid(extremes).data;
  assert.is(out[0], 0);
  assert.is(out[1], Math.fround(Math.exp(-100)));
  assert.is(out[4], 0.5);
  assert.is(out[8], 1);
  assert.ok(out.every((v) => v >= 0 && v <= 1));
});

Stable('softmax subtracts the row maximum, so huge scores do not overflow', () => {
  const out = nl.softmax({ data: new Float32Array([1000, 1000, -1000, 0, 88, 89]), shape: [2, 3] }).data;
  assertAllclose(out.slice(0, 3), [0.5, 0.5, 0], 'row 0');
  const e = [Math.exp(-89), Math.exp(-1), 1];
  const s = e[0] + e[1] + e[2];
  assertAllclose(out.slice(3), e.map((v) => v / s), 'row 1');
});

Stable('elu and selu use expm1, exact near zero, and reach their negative limits', () => {
  assert.is(nl.elu(extremes).data[3], Math.fround(-1e-8));
  assert.is(nl.elu(extremes).data[0], -1);
  assert.is(nl.selu(extremes).data[0], Math.fround(-SELU_SCALE * SELU_SCALE_NEG));
});

Stable('rectify maps -Infinity to 0 and keeps NaN', () => {
  const out = nl.rectify({ data: new Float32Array([-Infinity, NaN, Infinity]), shape: [3] }).data;
  assert.is(out[0], 0);
  assert.ok(Number.isNaN(out[1]));
  assert.is(out[2], Infinity);
});

Stable.run();

const Callables = suite('nonlinearity objects');

const all = {
  sigmoid: nl.sigmoid,
  softmax: nl.softmax,
  tanh: nl.tanh,
  rectify: nl.rectify,
  leakyRectify: nl.leakyRectify,
  veryLeakyRectify: nl.veryLeakyRectify,
  elu: nl.elu,
  selu: nl.selu,
  softplus: nl.softplus,
  linear: nl.linear,
  identity: nl.identity,
};

Callables('each nonlinearity reports its kind, params and elementwise flag', () => {
  const expected = {
    sigmoid: ['sigmoid', []],
    softmax: ['softmax', []],
    tanh: ['tanh', []],
    rectify: ['rectify', []],
    leakyRectify: ['leaky_rectify', [0.01]],
    veryLeakyRectify: ['leaky_rectify', [1 / 3]],
    elu: ['elu', []],
    selu: ['selu', [SELU_SCALE, SELU_SCALE_NEG]],
    softplus: ['softplus', []],
    linear: ['linear', []],
    identity: ['linear', []],
  };
  for (const [name, f] of Object.entries(all)) {
    assert.is(typeof f, 'function', name);
    assert.is(f.kind, expected[name][0], name);
    assert.equal([...f.params], expected[name][1], name);
    assert.is(f.elementwise, name !== 'softmax', name);
    assert.ok(nl.isNonlinearity(f), name);
  }
  assert.equal([...new nl.ScaledTanH({ scaleIn: 2, scaleOut: 3 }).params], [2, 3]);
  assert.equal([...new nl.SELU({ scale: 4, scaleNeg: 5 }).params], [4, 5]);
  assert.is(new nl.ScaledTanH().kind, 'scaled_tanh');
});

Callables('identity is linear and ScaledTanh is ScaledTanH', () => {
  assert.is(nl.identity, nl.linear);
  assert.is(nl.ScaledTanh, nl.ScaledTanH);
});

Callables('class instances are callable and instanceof their class', () => {
  for (const [Cls, options, attrs] of [
    [nl.LeakyRectify, { leakiness: 0.2 }, { leakiness: 0.2 }],
    [nl.ScaledTanH, { scaleIn: 0.5, scaleOut: 2 }, { scaleIn: 0.5, scaleOut: 2 }],
    [nl.SELU, { scale: 2, scaleNeg: 0.5 }, { scale: 2, scaleNeg: 0.5 }],
  ]) {
    const f = new Cls(options);
    assert.is(typeof f, 'function');
    assert.ok(f instanceof Cls);
    assert.ok(f instanceof Function);
    assert.is(Object.getPrototypeOf(Cls.prototype), Function.prototype);
    for (const [k, v] of Object.entries(attrs)) assert.is(f[k], v, k);
    assert.equal(f({ data: new Float32Array([1]), shape: [1] }).shape, [1]);
  }
  assert.ok(nl.leakyRectify instanceof nl.LeakyRectify);
  assert.ok(nl.selu instanceof nl.SELU);
  assert.not.ok(nl.rectify instanceof nl.LeakyRectify);
});

Callables('defaults are Lasagne’s', () => {
  assert.is(new nl.LeakyRectify().leakiness, 0.01);
  assert.is(nl.veryLeakyRectify.leakiness, 1 / 3);
  assert.is(new nl.ScaledTanH().scaleIn, 1);
  assert.is(new nl.ScaledTanH().scaleOut, 1);
  assert.is(new nl.SELU().scale, 1);
  assert.is(new nl.SELU().scaleNeg, 1);
  assert.is(nl.selu.scale, SELU_SCALE);
  assert.is(nl.selu.scaleNeg, SELU_SCALE_NEG);
});

Callables('name and toString describe the function and its parameters', () => {
  assert.is(nl.rectify.name, 'rectify');
  assert.is(String(nl.rectify), 'rectify');
  assert.is(String(nl.softmax), 'softmax');
  assert.is(String(nl.identity), 'linear');
  const f = new nl.LeakyRectify({ leakiness: 0.1 });
  assert.is(String(f), 'LeakyRectify(leakiness=0.1)');
  assert.is(f.name, 'LeakyRectify(leakiness=0.1)');
  assert.is(String(new nl.ScaledTanH({ scaleIn: 0.5, scaleOut: 2.27 })), 'ScaledTanH(scaleIn=0.5, scaleOut=2.27)');
  assert.is(String(new nl.SELU({ scale: 1.21, scaleNeg: 0.12 })), 'SELU(scale=1.21, scaleNeg=0.12)');
});

Callables('nonlinearities are immutable', () => {
  const f = new nl.LeakyRectify({ leakiness: 0.1 });
  assert.throws(() => {
    'use strict';
    f.leakiness = 0.5;
  });
  assert.throws(() => {
    nl.rectify.kind = 'linear';
  });
  assert.throws(() => {
    nl.leakyRectify.params.push(1);
  });
  assert.is(f.leakiness, 0.1);
  assert.is(nl.rectify.kind, 'rectify');
});

Callables('isNonlinearity refuses plain functions, objects and malformed look-alikes', () => {
  assert.not.ok(nl.isNonlinearity((x) => x));
  assert.not.ok(nl.isNonlinearity({ kind: 'rectify', params: [], elementwise: true }));
  assert.not.ok(nl.isNonlinearity(null));
  const fake = Object.assign((x) => x, { kind: 'bogus', params: [], elementwise: true });
  assert.not.ok(nl.isNonlinearity(fake));
  const wrongParams = Object.assign((x) => x, { kind: 'leaky_rectify', params: [], elementwise: true });
  assert.not.ok(nl.isNonlinearity(wrongParams));
  const wrongFlag = Object.assign((x) => x, { kind: 'softmax', params: [], elementwise: true });
  assert.not.ok(nl.isNonlinearity(wrongFlag));
});

Callables('unknown options raise TypeError with the closest valid name', () => {
  throwsWith(() => new nl.LeakyRectify({ leakyness: 0.1 }), TypeError, /unknown option 'leakyness' for LeakyRectify; did you mean 'leakiness'\?/);
  throwsWith(() => new nl.SELU({ scale_neg: 0 }), TypeError, /unknown option 'scale_neg' for SELU; did you mean 'scaleNeg'\?/);
  throwsWith(() => new nl.ScaledTanH({ scale_in: 2 }), TypeError, /did you mean 'scaleIn'\?/);
  throwsWith(() => new nl.LeakyRectify(0.1), TypeError, /options must be an object/);
});

Callables('option values must be finite numbers, named in the message', () => {
  throwsWith(() => new nl.LeakyRectify({ leakiness: '0.1' }), TypeError, /leakiness='0.1'/);
  throwsWith(() => new nl.LeakyRectify({ leakiness: NaN }), ValueError, /leakiness=NaN/);
  throwsWith(() => new nl.SELU({ scale: Infinity }), ValueError, /scale=Infinity/);
  throwsWith(() => new nl.ScaledTanH({ scaleOut: null }), TypeError, /scaleOut=null/);
});

Callables('inputs must be float32 NDArrays', () => {
  throwsWith(() => nl.rectify({ data: new Float64Array(4), shape: [4] }), ValueError, /Float32Array/);
  throwsWith(() => nl.sigmoid([1, 2, 3]), ValueError, /NDArray/);
  throwsWith(() => nl.tanh({ data: new Float32Array(3), shape: [2, 2] }), ValueError, /elements/);
});

Callables('elementwise nonlinearities keep any shape, including scalars and 4-D', () => {
  const x = { data: Float32Array.from({ length: 120 }, (_, i) => i / 10 - 6), shape: [2, 3, 4, 5] };
  assert.equal(nl.rectify(x).shape, [2, 3, 4, 5]);
  assert.equal(nl.elu({ data: new Float32Array([-1]), shape: [] }).shape, []);
});

Callables('softmax refuses anything but a 2-D input with ValueError', () => {
  for (const shape of [[4], [1, 2, 2], [1, 2, 2, 1]]) {
    throwsWith(() => nl.softmax({ data: new Float32Array(4), shape }), ValueError, /softmax requires a 2-D input/);
  }
});

Callables.run();

const Scalar = suite('applyScalar');

Scalar('applyScalar is the float64 formula the callables round to float32', () => {
  const x = x0();
  for (const f of [...Object.values(all), new nl.ScaledTanH({ scaleIn: 0.5, scaleOut: 2.27 }), new nl.SELU({ scale: 1.21, scaleNeg: 0.12 })]) {
    if (!f.elementwise) continue;
    const out = f(x).data;
    for (let i = 0; i < 100; i++) assert.is(out[i], Math.fround(nl.applyScalar(f.kind, f.params, x.data[i])), `${f}[${i}]`);
  }
});

Scalar('applyScalar computes in float64', () => {
  assert.is(nl.applyScalar('sigmoid', [], 1), 1 / (1 + Math.exp(-1)));
  assert.is(nl.applyScalar('leaky_rectify', [0.1], -3), 0.1 * -3);
  assert.is(nl.applyScalar('scaled_tanh', [0.5, 2.27], 1), Math.tanh(0.5) * 2.27);
  assert.is(nl.applyScalar('selu', [2, 3], -1), 2 * (3 * Math.expm1(-1)));
  assert.is(nl.applyScalar('softplus', [], 0), Math.LN2);
});

Scalar('applyScalar refuses softmax, unknown kinds and wrong params', () => {
  throwsWith(() => nl.applyScalar('softmax', [], 1), ValueError, /softmax is not elementwise/);
  throwsWith(() => nl.applyScalar('relu', [], 1), ValueError, /kind=relu/);
  throwsWith(() => nl.applyScalar('leaky_rectify', [], 1), ValueError, /leaky_rectify takes 1 params/);
  throwsWith(() => nl.applyScalar('rectify', [1], 1), ValueError, /rectify takes 0 params/);
  throwsWith(() => nl.applyScalar('selu', [1, NaN], 1), ValueError, /finite/);
});

Scalar.run();
