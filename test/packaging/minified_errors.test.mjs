// Error names survive minification: a bundle of the package made by esbuild with `minify: true`
// (what Vite does for production) still gives e.name === 'ValueError' and prints `ValueError: ...`.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('../..', import.meta.url));
const test = suite('error names in a minified bundle');

const ENTRY = `
import { inspect } from 'node:util';
import * as lasagne from ${JSON.stringify(join(root, 'dist/index.js'))};
// a class named the usual way, to show that the minifier does rename classes
class LocalError extends Error { constructor(m) { super(m); this.name = new.target.name; } }
const report = (e) => ({ name: e.name, ctor: e.constructor.name, str: String(e), stack: e.stack.split('\\n')[0], inspect: inspect(e).split('\\n')[0] });
const out = { local: report(new LocalError('x')) };
try { lasagne.ndarray(new Float32Array(3), [2]); } catch (e) { out.value = report(e); out.valueIsInstance = e instanceof lasagne.errors.ValueError; }
out.runtime = report(new lasagne.errors.RuntimeError('r'));
out.notImplemented = report(new lasagne.errors.NotImplementedError('n'));
out.base = report(new lasagne.errors.LasagneError('b'));
console.log(JSON.stringify(out));
`;

test('ValueError, RuntimeError, NotImplementedError keep their names and printed class', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lasagne-min-'));
  try {
    writeFileSync(join(dir, 'entry.mjs'), ENTRY);
    await build({
      entryPoints: [join(dir, 'entry.mjs')], bundle: true, minify: true, format: 'esm', platform: 'node',
      outfile: join(dir, 'bundle.mjs'), external: ['webgpu'], logLevel: 'silent',
    });
    const out = JSON.parse(execFileSync(process.execPath, [join(dir, 'bundle.mjs')], { encoding: 'utf8' }));
    // the minifier renamed the local class: without an explicit name this is what users would see
    assert.is.not(out.local.ctor, 'LocalError', 'esbuild did not rename classes; the test would prove nothing');
    assert.ok(out.valueIsInstance);
    for (const [key, name] of [['value', 'ValueError'], ['runtime', 'RuntimeError'], ['notImplemented', 'NotImplementedError'], ['base', 'LasagneError']]) {
      const r = out[key];
      assert.is(r.name, name, `${key}.name`);
      assert.is(r.ctor, name, `${key}.constructor.name`);
      assert.ok(r.str.startsWith(`${name}: `), r.str);
      assert.ok(r.stack.startsWith(`${name}: `), r.stack);
      assert.ok(r.inspect.startsWith(`${name}: `), r.inspect);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
