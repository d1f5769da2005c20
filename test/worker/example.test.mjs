// The README's model-file and worker example runs and prints what its comments say.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const example = suite('examples/workers.mjs');

example('is in the README verbatim, and prints its commented results', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const file = readFileSync(new URL('../../examples/workers.mjs', import.meta.url), 'utf8');
  assert.ok(readme.includes(file.slice(file.indexOf('import * as lasagne')).trimEnd()), 'README and examples/workers.mjs agree');
  const env = { ...process.env, NO_COLOR: '1' };
  delete env.FORCE_COLOR;
  const out = execFileSync(process.execPath, ['examples/workers.mjs'], { cwd: root, encoding: 'utf8', env });
  assert.is(out, 'true\nwasm 8x10x4x4 8x10x4x4 0\n');
});

example.run();
