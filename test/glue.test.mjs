// The build-time glue check: build/planner.wasm against the ABI that src/planner/planner_abi.ts declares.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compareAbi, readModuleAbi } from '../scripts/check_glue.mjs';
import { PLANNER_ABI } from '../dist/planner/planner_abi.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const wasmBytes = readFileSync(join(root, 'build/planner.wasm'));

/** The module with one export renamed in place (same length, so no section size changes). */
function renamedExport(bytes, from, to) {
  assert.is(from.length, to.length);
  const buf = Buffer.from(bytes);
  const at = buf.indexOf(Buffer.from(from, 'utf8'));
  assert.ok(at > 0, `${from} is in the module`);
  buf.write(to, at, 'utf8');
  return buf;
}

const glue = suite('glue check');

glue('the built planner matches its declaration exactly', () => {
  assert.equal(compareAbi(wasmBytes, PLANNER_ABI, 'planner'), []);
  const abi = readModuleAbi(wasmBytes);
  assert.equal(Object.keys(abi.functions).sort(), Object.keys(PLANNER_ABI.functions).sort());
  assert.equal(abi.imports, []);
});

glue('a renamed export is reported on both sides', () => {
  const problems = compareAbi(renamedExport(wasmBytes, 'conv_output_length', 'conv_output_lengtX'), PLANNER_ABI, 'planner');
  assert.ok(problems.some((p) => p.includes("declares export 'conv_output_length'")), problems.join('\n'));
  assert.ok(problems.some((p) => p.includes("exports 'conv_output_lengtX'")), problems.join('\n'));
});

glue('a re-typed declaration is reported with both signatures', () => {
  const retyped = { ...PLANNER_ABI, functions: { ...PLANNER_ABI.functions, arena_plan: [['i32'], ['i32']] } };
  const problems = compareAbi(wasmBytes, retyped, 'planner');
  assert.equal(problems, ["planner: export 'arena_plan' is (i32) -> (f64) in the module but (i32) -> (i32) in the glue"]);
});

glue('the check script fails the build (exit 1) on a module with a renamed export', () => {
  const dir = mkdtempSync(join(tmpdir(), 'glue-'));
  try {
    for (const d of ['build', 'dist/planner', 'scripts']) mkdirSync(join(dir, d), { recursive: true });
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
    copyFileSync(join(root, 'scripts/check_glue.mjs'), join(dir, 'scripts/check_glue.mjs'));
    copyFileSync(join(root, 'dist/planner/planner_abi.js'), join(dir, 'dist/planner/planner_abi.js'));
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
    writeFileSync(join(dir, 'build/planner.wasm'), wasmBytes);
    const good = spawnSync(process.execPath, [join(dir, 'scripts/check_glue.mjs')], { encoding: 'utf8' });
    assert.is(good.status, 0, good.stderr);
    writeFileSync(join(dir, 'build/planner.wasm'), renamedExport(wasmBytes, 'arena_offset', 'arena_offsex'));
    const bad = spawnSync(process.execPath, [join(dir, 'scripts/check_glue.mjs')], { encoding: 'utf8' });
    assert.is(bad.status, 1);
    assert.match(bad.stderr, /glue check failed/);
    assert.match(bad.stderr, /'arena_offset'/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

glue.run();
