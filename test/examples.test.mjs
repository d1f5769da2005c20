// The documentation's examples run and print what the README says they print.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const plainEnv = { ...process.env, NO_COLOR: '1' };
delete plainEnv.FORCE_COLOR;
const examples = suite('examples');

examples('the README example is examples/readme.mjs verbatim, and prints its commented results', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const file = readFileSync(new URL('../examples/readme.mjs', import.meta.url), 'utf8');
  const body = file.slice(file.indexOf('import * as lasagne'));
  assert.ok(readme.includes(body.trimEnd()), 'README and examples/readme.mjs agree');
  const out = execFileSync(process.execPath, ['examples/readme.mjs'], { cwd: root, encoding: 'utf8', env: plainEnv });
  assert.is(out, "[ 10, 16, 16, null ]\n54346\n[ 'conv1.W', 'W', 'W' ]\n");
});

examples('the README streaming example is examples/stream.mjs verbatim: runs in flight, each on its own batch, in order', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const file = readFileSync(new URL('../examples/stream.mjs', import.meta.url), 'utf8');
  const body = file.slice(file.indexOf('import * as lasagne'));
  assert.ok(readme.includes(body.trimEnd()), 'README and examples/stream.mjs agree');
  const out = execFileSync(process.execPath, ['examples/stream.mjs'], { cwd: root, encoding: 'utf8', env: plainEnv, stdio: ['ignore', 'pipe', 'ignore'] });
  assert.is(out, '8x10x4x4 8x10x4x4 8x10x4x4 8x10x4x4\ntrue\nnull\n');
});

examples('npm start\'s script prints the NET summary and its arena plan', () => {
  const out = execFileSync(process.execPath, ['scripts/start.mjs', '--run-batch', '4'], { cwd: root, encoding: 'utf8', env: plainEnv });
  assert.match(out, /conv1\s+Conv2DCCLayer\s+\(None, 32, 32, 32\)\s+W \(32, 3, 5, 5\), b \(32,\)\s+2432/);
  assert.match(out, /total parameters: 79978/);
  assert.match(out, /arena: 20971520 bytes \(20\.00 MiB\) vs 32145408 bytes/);
  assert.match(out, /plan digest: [0-9a-f]{16}/);
  assert.match(out, /compiled for batch 4 on (webgpu|wasm)/);
  assert.match(out, /output \(4, 10, 4, 4\); example 0, position \(0, 0\), 10 class scores: (-?\d\.\d{4} ){9}-?\d\.\d{4}/);
  assert.match(out, /conv1\s+\d+\.\d{3} ms/);
});

examples.run();
