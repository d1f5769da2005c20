// One set-up for `npm start`, `npm test` and `npm run build`, safe to run on a fresh machine as root
// with nothing but the repository, and fast when nothing changed:
//   1. npm packages from package-lock.json (npm ci) when node_modules is missing or stale;
//   2. Debian packages the backends and browser tests need (emscripten, chromium, libvulkan1) and the
//      Fashion-MNIST data `npm start` trains on (dataset-fashion-mnist), via apt-get, when missing
//      (skipped with --no-system);
//   3. the planner: assembly/ -> build/planner.wasm (asc), then its embedded-bytes module;
//   3b. the WASM kernels: src/backend/wasm/c/ -> build/kernels.wasm (emcc), 3c. wgsl/ -> an embedded module
//       (both with the epilogue codes of src/ops/codes.ts, rendered by scripts/gen_codes.mjs);
//   4. TypeScript: src/ -> dist/ (tsc);
//   5. the glue check: every wasm export against its TypeScript declaration (fails the build).
// Steps 3-5 are skipped when a hash of their inputs matches the stamp of their last success.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = new Set(process.argv.slice(2));
const log = (msg) => console.log(`[setup] ${msg}`);
const run = (cmd, argv, opts = {}) => execFileSync(cmd, argv, { cwd: root, stdio: 'inherit', ...opts });

function filesUnder(dir, ext) {
  const out = [];
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p, ext));
    else if (ext.some((e) => name.endsWith(e))) out.push(p);
  }
  return out;
}

function hashOf(paths, extra = '') {
  const h = createHash('sha256');
  h.update(extra);
  for (const p of paths) {
    h.update(relative(root, p));
    h.update(existsSync(p) ? readFileSync(p) : 'missing');
  }
  return h.digest('hex');
}

function stamped(name, hash, outputs, build) {
  const stamp = join(root, 'build', `.${name}.stamp`);
  const fresh = existsSync(stamp) && readFileSync(stamp, 'utf8') === hash && outputs.every((o) => existsSync(join(root, o)));
  if (fresh) return false;
  build();
  mkdirSync(join(root, 'build'), { recursive: true });
  writeFileSync(stamp, hash);
  return true;
}

function has(cmd) {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

// 1. npm packages
const major = Number(process.versions.node.split('.')[0]);
if (major < 20) throw new Error(`lasagne-webgpu needs Node.js >= 20, but this is ${process.versions.node}`);
const lockHash = hashOf([join(root, 'package-lock.json'), join(root, 'package.json')]);
const npmStamp = join(root, 'node_modules', '.lasagne-setup.stamp');
if (!existsSync(npmStamp) || readFileSync(npmStamp, 'utf8') !== lockHash) {
  log('installing npm packages (npm ci)');
  run('npm', ['ci', '--no-audit', '--no-fund']);
  writeFileSync(npmStamp, lockHash);
}

// 2. Debian packages
if (!args.has('--no-system')) {
  const missing = [];
  if (!has('emcc')) missing.push('emscripten');
  if (!existsSync('/usr/bin/chromium')) missing.push('chromium');
  // Dawn (the `webgpu` package) loads Vulkan through libvulkan.so.1; chromium's SwiftShader ICD is the device without a GPU.
  if (!existsSync('/usr/lib/x86_64-linux-gnu/libvulkan.so.1') && !existsSync('/usr/lib/aarch64-linux-gnu/libvulkan.so.1')) missing.push('libvulkan1');
  // The IDX files npm start reads (scripts/start/data.mjs), in /usr/share/datasets/fashion-mnist/.
  const fashion = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'];
  if (!fashion.every((f) => existsSync(`/usr/share/datasets/fashion-mnist/${f}.gz`))) missing.push('dataset-fashion-mnist');
  if (missing.length) {
    if (typeof process.getuid === 'function' && process.getuid() === 0 && has('apt-get')) {
      log(`installing Debian packages: ${missing.join(' ')} (apt-get; this takes a few minutes once)`);
      const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
      run('apt-get', ['update', '-qq'], { env });
      run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env });
    } else {
      log(`missing Debian packages ${missing.join(' ')}: run 'apt-get install ${missing.join(' ')}' as root; ` +
        'the WASM backend build, the browser tests and npm start\'s data need them');
    }
  }
}

// 3. planner
const asVersion = JSON.parse(readFileSync(join(root, 'node_modules/assemblyscript/package.json'), 'utf8')).version;
const plannerInputs = [...filesUnder(join(root, 'assembly'), ['.ts']), join(root, 'asconfig.json'), join(root, 'scripts/gen_planner_module.mjs')];
const plannerBuilt = stamped('planner', hashOf(plannerInputs, asVersion), ['build/planner.wasm', 'src/planner/planner_bytes.generated.ts'], () => {
  log('building build/planner.wasm (asc)');
  run(process.execPath, [join(root, 'node_modules/assemblyscript/bin/asc.js'), 'assembly/index.ts', '--target', 'release']);
  execFileSync(process.execPath, [join(root, 'scripts/gen_planner_module.mjs')], { cwd: root, stdio: 'inherit' });
});

// 3b. the WASM kernels: src/backend/wasm/c/ -> build/kernels.wasm (emcc) and their embedded-bytes module
const emccVersion = has('emcc') ? execFileSync('emcc', ['--version'], { encoding: 'utf8' }).split('\n')[0] : 'none';
const codesInputs = [join(root, 'src/ops/codes.ts'), join(root, 'scripts/gen_codes.mjs')];
const kernelInputs = [...filesUnder(join(root, 'src/backend/wasm/c'), ['.c', '.h']).filter((p) => !p.endsWith('.generated.h')), ...codesInputs, join(root, 'scripts/build_kernels.mjs')];
stamped('kernels', hashOf(kernelInputs, emccVersion), ['build/kernels.wasm', 'src/backend/wasm/kernels_bytes.generated.ts'], () => {
  log(`building build/kernels.wasm (${has('emcc') ? 'emcc' : 'no emcc here: an empty stand-in, the WASM backend reports itself unavailable'})`);
  run(process.execPath, [join(root, 'scripts/build_kernels.mjs'), '--stub-if-missing']);
});

// 3c. the WGSL kernels: wgsl/*.wgsl -> their embedded-text module
const wgslInputs = [...filesUnder(join(root, 'wgsl'), ['.wgsl']), ...codesInputs, join(root, 'scripts/gen_wgsl_module.mjs')];
stamped('wgsl', hashOf(wgslInputs), ['src/backend/webgpu/shaders.generated.ts'], () => {
  run(process.execPath, [join(root, 'scripts/gen_wgsl_module.mjs')]);
});

// 4. TypeScript
const tsInputs = [...filesUnder(join(root, 'src'), ['.ts']), join(root, 'tsconfig.json')];
// (generated modules are under src/, so a kernel change recompiles the TypeScript too)
const tsBuilt = stamped('tsc', hashOf(tsInputs), ['dist/index.js'], () => {
  log('compiling TypeScript (tsc)');
  run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json']);
});

// 5. glue check
const glueInputs = [join(root, 'build/planner.wasm'), join(root, 'dist/planner/planner_abi.js'), join(root, 'build/kernels.wasm'), join(root, 'dist/backend/wasm/kernels_abi.js'), join(root, 'scripts/check_glue.mjs')];
stamped('glue', hashOf(glueInputs), [], () => run(process.execPath, [join(root, 'scripts/check_glue.mjs')]));
if (!plannerBuilt && !tsBuilt) log('up to date');
