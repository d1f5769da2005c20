// The one table of epilogue codes (src/ops/codes.ts): what the C kernels and the WGSL kernels are
// built with is generated from it, every elementwise nonlinearity has a code, and a step's
// nonlinearity becomes a code or a ValueError that names the layer.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { ACTIVATIONS, BIAS_CODES, activationOf } from '../../dist/ops/codes.js';
import { WGSL_CODES } from '../../dist/backend/webgpu/shaders.generated.js';
import * as nl from '../../dist/nonlinearities.js';
import { ValueError } from '../../dist/errors.js';

const header = readFileSync(new URL('../../src/backend/wasm/c/codes.generated.h', import.meta.url), 'utf8');
const table = { ...Object.fromEntries(Object.entries(ACTIVATIONS).map(([k, v]) => [`ACT_${k.toUpperCase()}`, v.code])), ...Object.fromEntries(Object.entries(BIAS_CODES).map(([k, v]) => [`BIAS_${k.toUpperCase()}`, v])) };

test('the C header and the WGSL consts carry exactly the table', () => {
  const c = Object.fromEntries([...header.matchAll(/^\s+((?:ACT|BIAS)_[A-Z_]+) = (\d+),$/gm)].map((m) => [m[1], Number(m[2])]));
  const wgsl = Object.fromEntries([...WGSL_CODES.matchAll(/^const ((?:ACT|BIAS)_[A-Z_]+): u32 = (\d+)u;$/gm)].map((m) => [m[1], Number(m[2])]));
  assert.equal(c, table);
  assert.equal(wgsl, table);
  assert.match(header, new RegExp(`ACT_COUNT = ${Object.keys(ACTIVATIONS).length}\\n`));
});

test('every nonlinearity but softmax has a code and the parameter count its objects carry', () => {
  const objects = [nl.sigmoid, nl.tanh, new nl.ScaledTanH({ scaleIn: 0.5, scaleOut: 2 }), nl.rectify, new nl.LeakyRectify({ leakiness: 0.1 }), nl.elu, nl.selu, nl.softplus, nl.linear];
  assert.equal(objects.map((f) => f.kind).sort(), Object.keys(ACTIVATIONS).sort());
  for (const f of objects) assert.is(f.params.length, ACTIVATIONS[f.kind].params, f.kind);
  const codes = Object.values(ACTIVATIONS).map((a) => a.code);
  assert.equal(new Set(codes).size, codes.length, 'distinct codes');
});

test('activationOf: the code and two params, or a ValueError naming the layer', () => {
  assert.equal(activationOf({ kind: 'leaky_rectify', params: [0.25] }, 'conv1'), { code: ACTIVATIONS.leaky_rectify.code, params: [0.25, 0] });
  assert.equal(activationOf({ kind: 'selu', params: [1.5, 2] }, 'conv1'), { code: ACTIVATIONS.selu.code, params: [1.5, 2] });
  assert.throws(() => activationOf({ kind: 'softmax', params: [] }, 'out'), (e) => e instanceof ValueError && /out/.test(e.message) && /softmax/.test(e.message));
  assert.throws(() => activationOf({ kind: 'rectify', params: [1] }, 'c2'), (e) => e instanceof ValueError && /c2/.test(e.message) && /takes 0 params/.test(e.message));
  assert.throws(() => activationOf({ kind: 'toString', params: [] }, 'c3'), (e) => e instanceof ValueError && /toString/.test(e.message));
});

test.run();
