// npm test's output is clean: scripts/test.mjs runs uvu without colour flags that make every child
// Node process warn "The 'NO_COLOR' env is ignored due to the 'FORCE_COLOR' env being set".
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const clean = suite('clean test output');

clean('scripts/test.mjs: a child process of a test prints no colour warning, and the summary line is there', () => {
  const env = { ...process.env };
  delete env.FORCE_COLOR;
  const r = spawnSync(process.execPath, ['scripts/test.mjs', 'ux/child_env\\.check\\.mjs$'], { cwd: root, encoding: 'utf8', env });
  const out = r.stdout + r.stderr;
  assert.is(r.status, 0, out);
  assert.not.match(out, /NO_COLOR|FORCE_COLOR/);
  assert.match(out, /1 passed, 0 failed, 0 skipped/);
  // (no escape codes either)
  assert.not.match(out, /\x1b\[/);
});

clean.run();
