// Packaging: `npm pack` (its prepack builds and checks), the tarball installed into a temporary app,
// and the README's examples run from there as a user runs them; prepack refuses a broken build;
// our own npm set-up leaves no install script unreviewed.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { installPacked } from '../support/packed.mjs';
import { packProblems, staleDistFiles } from '../../scripts/prepack.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const env = { ...process.env, NO_COLOR: '1' };
delete env.FORCE_COLOR;
const packed = suite('the packed package');

packed('the README examples run from an app that installed the tarball, and print what the README says', async () => {
  const app = mkdtempSync(join(tmpdir(), 'lasagne-readme-app-'));
  try {
    await installPacked(app);
    for (const f of ['readme.mjs', 'stream.mjs']) copyFileSync(join(root, 'examples', f), join(app, f));
    const run = (f) => spawnSync(process.execPath, [f], { cwd: app, encoding: 'utf8', env });
    const readme = run('readme.mjs');
    assert.is(readme.status, 0, readme.stderr);
    assert.is(readme.stdout, "[ 10, 16, 16, null ]\n54346\n[ 'conv1.W', 'W', 'W' ]\n");
    assert.is(readme.stderr, '', 'nothing on stderr');
    const stream = run('stream.mjs');
    assert.is(stream.status, 0, stream.stderr);
    assert.is(stream.stdout, '8x10x4x4 8x10x4x4 8x10x4x4 8x10x4x4\ntrue\nnull\n');
    assert.is(stream.stderr, '', 'nothing on stderr');
    // it really ran the installed copy, with its WASM kernels
    const probe = spawnSync(process.execPath, ['--input-type=module', '-e',
      "import * as l from 'lasagne-webgpu'; const n = await l.compile(l.cifar10Net(1), { backend: 'wasm' }); console.log(import.meta.resolve('lasagne-webgpu'), n.device); n.dispose();"],
    { cwd: app, encoding: 'utf8', env });
    assert.is(probe.status, 0, probe.stderr);
    assert.ok(probe.stdout.includes(join(app, 'node_modules/lasagne-webgpu/dist/index.js')), probe.stdout);
    assert.match(probe.stdout, /WebAssembly SIMD/);
  } finally {
    rmSync(app, { recursive: true, force: true });
  }
});

packed('prepack refuses stand-in WASM kernels and huge .d.ts, and finds stale dist files', () => {
  assert.equal(packProblems(root), [], 'this build may be packed');
  const fake = mkdtempSync(join(tmpdir(), 'lasagne-prepack-'));
  try {
    mkdirSync(join(fake, 'dist/backend/wasm'), { recursive: true });
    mkdirSync(join(fake, 'dist/planner'), { recursive: true });
    mkdirSync(join(fake, 'src'), { recursive: true });
    // what scripts/build_kernels.mjs --stub-if-missing writes without Emscripten
    writeFileSync(join(fake, 'dist/backend/wasm/kernels_bytes.generated.js'), "export const KERNELS_WASM_BASE64 = '';\nexport const KERNELS_WASM_BYTES = 0;\n");
    writeFileSync(join(fake, 'dist/planner/planner_bytes.generated.js'), "export const PLANNER_WASM_BASE64 = 'AGFzbQ';\n");
    writeFileSync(join(fake, 'dist/shaders.d.ts'), `export declare const WGSL: { a: "${'x'.repeat(40000)}" };\n`);
    writeFileSync(join(fake, 'dist/gone.js'), '');
    writeFileSync(join(fake, 'dist/gone.d.ts'), '');
    writeFileSync(join(fake, 'dist/kept.js'), '');
    writeFileSync(join(fake, 'src/kept.ts'), '');
    const problems = packProblems(fake);
    assert.ok(problems.some((p) => /empty stand-in/.test(p) && /Emscripten/.test(p)), problems.join('\n'));
    assert.ok(problems.some((p) => /shaders\.d\.ts is \d+ bytes/.test(p)), problems.join('\n'));
    assert.is(problems.length, 2, problems.join('\n'));
    const stale = staleDistFiles(fake).map((p) => p.slice(fake.length + 1));
    for (const f of ['dist/gone.d.ts', 'dist/gone.js', 'dist/shaders.d.ts']) assert.ok(stale.includes(f), f);
    assert.not.ok(stale.includes('dist/kept.js'), 'a file whose source exists is kept');
    assert.equal(staleDistFiles(root), [], 'nothing stale in this build');
    // and the script itself exits non-zero with the reason (run on the fake package without building)
    const r = spawnSync(process.execPath, ['--input-type=module', '-e',
      `import { packProblems } from ${JSON.stringify(join(root, 'scripts/prepack.mjs'))}; const p = packProblems(${JSON.stringify(fake)}); if (p.length) { console.error(p.join('\\n')); process.exit(1); }`],
    { encoding: 'utf8' });
    assert.is(r.status, 1);
  } finally {
    rmSync(fake, { recursive: true, force: true });
  }
});

packed("package.json's allowScripts covers every dependency with an install script (npm warns about none)", () => {
  const r = spawnSync(npm, ['install-scripts', 'ls'], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0 && /Unknown command|unknown command/i.test(r.stdout + r.stderr)) return console.log('  SKIP install scripts: this npm has no install-scripts command');
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /No packages with unreviewed install scripts/);
});

packed.run();
