// The one direction of dependency of ../shared/DESIGN.md, checked on the TypeScript sources: each
// floor imports only the floors below it (core <- planner <- ops <- layers <- compile; backend
// imports only ops and core), and no file asks `instanceof` of a concrete layer class but its own.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const src = join(root, 'src');

function tsFiles(dir) {
  return readdirSync(dir).sort().flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? tsFiles(p) : name.endsWith('.ts') ? [p] : [];
  });
}

const CORE = new Set(['errors.ts', 'ndarray.ts', 'options.ts', 'random.ts', 'wasm_abi.ts', 'threading.ts']);
const LAYER_FLOOR = new Set(['init.ts', 'nonlinearities.ts']);

/** The floor of a source file (path relative to src/). */
function floorOf(rel) {
  const top = rel.split('/')[0];
  if (CORE.has(rel) || top === 'io') return 'core';
  if (top === 'planner' || top === 'ops' || top === 'compile' || top === 'backend') return top;
  if (top === 'layers' || top === 'models' || LAYER_FLOOR.has(rel)) return 'layers';
  return 'facade';
}

/** What each floor may import. */
const ALLOWED = {
  core: ['core'],
  planner: ['core', 'planner'],
  ops: ['core', 'planner', 'ops'],
  layers: ['core', 'planner', 'ops', 'layers'],
  compile: ['core', 'planner', 'ops', 'layers', 'compile', 'backend'],
  backend: ['core', 'ops', 'backend'],
  facade: ['core', 'planner', 'ops', 'layers', 'compile', 'backend', 'facade'],
};

function importsOf(file) {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/^\s*(?:import|export)\b[^;]*?from\s+'([^']+)'/gms)].map((m) => m[1]);
  return specs.filter((s) => s.startsWith('.')).map((s) => relative(src, join(dirname(file), s)).replace(/\.js$/, '.ts'));
}

const files = tsFiles(src).map((f) => relative(src, f));

test('every import in src/ goes down the floors (core <- planner <- ops <- layers <- compile; backend: ops and core)', () => {
  const problems = [];
  for (const rel of files) {
    const from = floorOf(rel);
    for (const target of importsOf(join(src, rel))) {
      const to = floorOf(target);
      if (!ALLOWED[from].includes(to)) problems.push(`${rel} (${from}) imports ${target} (${to})`);
    }
  }
  assert.equal(problems, []);
});

test('the floor map knows every file it judges (a typo would let anything through)', () => {
  assert.ok(files.some((f) => floorOf(f) === 'backend') && files.some((f) => floorOf(f) === 'planner'));
  assert.ok(files.some((f) => floorOf(f) === 'ops') && files.some((f) => floorOf(f) === 'compile'));
  assert.equal(floorOf('backend/webgpu/geometry.ts'), 'backend');
  assert.equal(floorOf('nonlinearities.ts'), 'layers');
});

test('only src/planner loads planner.wasm, and no file asks instanceof of a concrete layer class outside its own', () => {
  const layerClasses = new Map();
  for (const rel of files.filter((f) => f.startsWith('layers/'))) {
    for (const m of readFileSync(join(src, rel), 'utf8').matchAll(/^export class (\w+) extends Layer\b/gm)) layerClasses.set(m[1], rel);
  }
  assert.ok(layerClasses.has('Conv2DCCLayer') && layerClasses.has('InputLayer'), 'found the layer classes');
  const problems = [];
  for (const rel of files) {
    const text = readFileSync(join(src, rel), 'utf8');
    for (const m of text.matchAll(/instanceof (\w+)/g)) {
      const owner = layerClasses.get(m[1]);
      if (owner !== undefined && owner !== rel) problems.push(`${rel}: instanceof ${m[1]}`);
    }
    if (/planner_bytes\.generated/.test(text) && !rel.startsWith('planner/')) problems.push(`${rel} loads the planner module`);
  }
  assert.equal(problems, []);
});


// Each backend describes every op once, in its ops/ folder (a typed registry there): outside it, no
// backend file switches on a step's op or tests it against a name. The one exception, listed: the
// WASM training executor explains the loss kernel's bad-target code with its own view of the targets.
const OP_TEST_EXCEPTIONS = new Map([['backend/wasm/training.ts', 2]]);

test('outside src/backend/*/ops/, no backend file branches on a step op (a new op is one file per backend)', () => {
  const problems = [];
  for (const rel of files.filter((f) => f.startsWith('backend/') && !/^backend\/[^/]+\/ops\//.test(f))) {
    const text = readFileSync(join(src, rel), 'utf8');
    const hits = [...text.matchAll(/switch \(\w+\.op\)|\.op\s*[!=]==?\s*'\w+'/g)].length;
    if (hits !== (OP_TEST_EXCEPTIONS.get(rel) ?? 0)) problems.push(`${rel}: ${hits} op tests`);
  }
  assert.equal(problems, []);
  // and each registry exists and names every op family file of its folder
  for (const b of ['webgpu', 'wasm']) {
    const dir = join(src, 'backend', b, 'ops');
    const index = readFileSync(join(dir, 'index.ts'), 'utf8');
    const missing = readdirSync(dir).filter((f) => f.endsWith('.ts') && f !== 'index.ts' && f !== 'op.ts' && !index.includes(`'./${f.replace(/\.ts$/, '.js')}'`));
    assert.equal(missing, [], `${b}/ops/index.ts imports every op file`);
  }
});

test.run();
