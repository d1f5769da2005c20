// The package as users get it: `npm pack` once per test process, installed into temporary apps.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
let tarball = null;

/**
 * Packs the package (once per process) into a temporary directory, after prepack's checks (it refuses
 * stand-in kernels); resolves to the .tgz path.
 */
export async function packedTarball() {
  if (tarball === null) {
    tarball = (async () => {
      const dir = mkdtempSync(join(tmpdir(), 'lasagne-pack-'));
      process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
      // prepack's checks without its build (a build here could reinstall node_modules under the running tests)
      execFileSync(process.execPath, [join(root, 'scripts/prepack.mjs'), '--no-build'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
      execFileSync(npm, ['pack', '--silent', '--ignore-scripts', '--pack-destination', dir], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
      const tgz = readdirSync(dir).find((f) => f.endsWith('.tgz'));
      if (!tgz) throw new Error(`npm pack wrote no .tgz into ${dir}`);
      return join(dir, tgz);
    })();
  }
  return tarball;
}

/**
 * Installs the packed package into `dir` (an ES module app; a package.json is written when there
 * is none), from the npm cache where possible. Resolves to `dir/node_modules/lasagne-webgpu`.
 */
export async function installPacked(dir) {
  const tgz = await packedTarball();
  if (!existsSync(join(dir, 'package.json'))) {
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'lasagne-webgpu-test-app', private: true, type: 'module' }, null, 2));
  }
  execFileSync(npm, ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', tgz], {
    cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8',
  });
  return join(dir, 'node_modules', 'lasagne-webgpu');
}
