// Run by test/ux/clean_output.test.mjs through scripts/test.mjs (not part of the suite by itself:
// the name does not end in .test.mjs): a child Node process of a test must print nothing on stderr.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';

const child = suite('a test\'s child process');
child('prints no NO_COLOR / FORCE_COLOR warning', () => {
  const r = spawnSync(process.execPath, ['-e', 'console.log("ok")'], { encoding: 'utf8' });
  assert.is(r.stdout, 'ok\n'); // (console.log is what warns when both are set)
  assert.is(r.stderr, '');
});
child.run();
