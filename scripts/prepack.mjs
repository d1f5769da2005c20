// `npm pack` / `npm publish` run this first (package.json "prepack"): builds the package
// (scripts/setup.mjs --no-system), removes dist/ files that no source makes any more (a stale
// module would ship), and refuses to pack a build that cannot work: WASM kernels that are the
// empty stand-in written when Emscripten was missing, a missing planner, or .d.ts files that carry
// huge literal types.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** dist files (.js, .d.ts, .map) whose src/*.ts no longer exists. */
export function staleDistFiles(root) {
  const out = [];
  const walk = (dir) => {
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) {
        walk(p);
        continue;
      }
      const base = relative(join(root, 'dist'), p).replace(/(\.d\.ts|\.js)(\.map)?$/, '');
      if (base === relative(join(root, 'dist'), p)) continue; // not a compiled file
      if (!existsSync(join(root, 'src', `${base}.ts`))) out.push(p);
    }
  };
  walk(join(root, 'dist'));
  return out;
}

/** Why the built package under `root` must not be packed (an empty list: it may). */
export function packProblems(root) {
  const problems = [];
  const kernels = join(root, 'dist/backend/wasm/kernels_bytes.generated.js');
  if (!existsSync(kernels)) problems.push('dist/backend/wasm/kernels_bytes.generated.js is missing: run npm run build');
  else {
    const m = /KERNELS_WASM_BASE64\s*=\s*'([^']*)'/.exec(readFileSync(kernels, 'utf8'));
    if (m === null || m[1].length === 0) {
      problems.push(
        'the WASM kernels are the empty stand-in written when Emscripten was not found, so the WASM backend would be unavailable ' +
          'to every user: install Emscripten (apt-get install emscripten) and run npm run build',
      );
    }
  }
  const planner = join(root, 'dist/planner/planner_bytes.generated.js');
  if (!existsSync(planner) || !/PLANNER_WASM_BASE64\s*=\s*'[^']+'/.test(readFileSync(planner, 'utf8'))) {
    problems.push('dist/planner/planner_bytes.generated.js is missing or empty: run npm run build');
  }
  const walk = (dir) => {
    for (const name of existsSync(dir) ? readdirSync(dir) : []) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.d.ts') && statSync(p).size > 32768) {
        problems.push(`${relative(root, p)} is ${statSync(p).size} bytes: a generated module's text leaked into its types (annotate it as string)`);
      }
    }
  };
  walk(join(root, 'dist'));
  return problems;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  // --no-build: only the checks (the tests pack what `npm test`'s set-up already built)
  if (!process.argv.includes('--no-build')) {
    execFileSync(process.execPath, [join(root, 'scripts/setup.mjs'), '--no-system'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  }
  for (const p of staleDistFiles(root)) {
    console.log(`[prepack] removing ${relative(root, p)} (no source makes it)`);
    rmSync(p);
  }
  const problems = packProblems(root);
  if (problems.length > 0) {
    console.error(`[prepack] refusing to pack lasagne-webgpu:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    process.exit(1);
  }
}
