// A short seeded run of scripts/fuzz.mjs (weight files and layer options): no exception but
// LasagneError/TypeError, no case over 1 s, peak memory within the documented caps. The full run
// (100,000 cases) is `node scripts/fuzz.mjs`.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const script = fileURLToPath(new URL('../scripts/fuzz.mjs', import.meta.url));

test('scripts/fuzz.mjs: 1500 seeded cases of hostile weight files and options end in results or LasagneError/TypeError', () => {
  // (3 s per case, not the full run's 1 s: the suite runs on machines shared with other work; a
  // hang, which never ends, is caught all the same)
  const run = spawnSync(process.execPath, [script, '--cases', '1500', '--seed', '15', '--seconds', '60', '--case-ms', '3000', '--json'], { encoding: 'utf8', timeout: 120000 });
  const line = run.stdout.trim().split('\n').pop();
  let report;
  try {
    report = JSON.parse(line);
  } catch {
    assert.unreachable(`no JSON report (exit ${run.status}, signal ${run.signal}): ${run.stdout.slice(-500)} ${run.stderr.slice(-500)}`);
  }
  assert.equal(report.failures, [], JSON.stringify(report.failures));
  assert.is(report.cases, 1500);
  assert.is(run.status, 0);
  // every kind ran, and both outcomes occur: cases that load and cases that are refused
  assert.ok(Object.keys(report.kinds).length >= 14, JSON.stringify(report.kinds));
  assert.ok(report.outcomes.ok > 0 && report.outcomes.ValueError > 0 && report.outcomes.TypeError > 0, JSON.stringify(report.outcomes));
});

test.run();
