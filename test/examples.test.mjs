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

examples('the README training example is examples/train.mjs verbatim: the loss falls, the toy task is learned', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const file = readFileSync(new URL('../examples/train.mjs', import.meta.url), 'utf8');
  const body = file.slice(file.indexOf('import * as lasagne'));
  assert.ok(readme.includes(body.trimEnd()), 'README and examples/train.mjs agree');
  const out = execFileSync(process.execPath, ['examples/train.mjs'], { cwd: root, encoding: 'utf8', env: plainEnv });
  assert.is(out, 'true true\ntrue\ntrue true\n');
});

examples.run();
