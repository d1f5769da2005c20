// Builds the example page with esbuild (as an app that depends on lasagne-webgpu would) and serves
// it on 127.0.0.1, with the trained model from out/ when `npm start` has written it.
//
//   node examples/web/serve.mjs [--port 8080] [--no-isolation]
//
// Cross-origin isolation (COOP + COEP headers, on by default) gives the page SharedArrayBuffer,
// which the WASM backend's threads use to share inputs and outputs; without it they exchange
// messages instead. The build and server functions are also used by the browser tests.
import { createServer } from 'node:http';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, cp } from 'node:fs/promises';
import { extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const repo = resolve(here, '../..');

/** The page's own files (copied next to the bundle). */
export const STATIC_FILES = ['index.html', 'style.css'];

/**
 * esbuild, as README "Bundlers" shows: the app plus the package's two worker scripts as entry
 * points, named as the package refers to them (`new URL('./worker.js', import.meta.url)` and
 * `./inference_worker.js` resolve next to the bundle), ES modules with shared chunks.
 * `packageDir` is where lasagne-webgpu is installed (the app's node_modules/lasagne-webgpu).
 */
export async function buildWithEsbuild({ appDir, outDir, packageDir, minify = false, workers = true }) {
  const esbuild = await import('esbuild');
  await esbuild.build({
    absWorkingDir: appDir,
    entryPoints: {
      app: join(appDir, 'app.js'),
      // (the tests also build without them, as a user who missed the README would)
      ...(workers ? {
        worker: join(packageDir, 'dist/backend/wasm/worker.js'),
        inference_worker: join(packageDir, 'dist/worker/inference_worker.js'),
      } : {}),
    },
    bundle: true,
    splitting: true,
    format: 'esm',
    target: 'es2022',
    platform: 'browser',
    minify,
    outdir: outDir,
    logLevel: 'error',
  });
  await copyStatic(appDir, outDir);
}

/**
 * Vite, with its default configuration: it finds `new Worker(new URL(..., import.meta.url), {
 * type: 'module' })`, bundles the workers (as classic scripts, its default) and rewrites the URLs.
 */
export async function buildWithVite({ appDir, outDir, minify = false }) {
  const vite = await import('vite');
  await vite.build({
    root: appDir,
    configFile: false,
    logLevel: 'error',
    build: { outDir, emptyOutDir: true, minify, target: 'es2022' },
  });
}

async function copyStatic(appDir, outDir) {
  await mkdir(outDir, { recursive: true });
  for (const f of STATIC_FILES) await cp(join(appDir, f), join(outDir, f));
}

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json',
  '.npz': 'application/octet-stream', '.wasm': 'application/wasm', '.map': 'application/json',
};

/**
 * Serves `dir` on 127.0.0.1 (`port` 0: any free port), plus model.json / model.npz from `modelDir`
 * when they exist there. Resolves to the http.Server.
 */
export function serve({ dir, port = 0, isolate = true, modelDir = join(repo, 'start-out') }) {
  const root = resolve(dir);
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://127.0.0.1').pathname);
    if (isolate) {
      res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
      res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    }
    let file = normalize(join(root, path === '/' ? 'index.html' : path));
    if (path === '/model.json' || path === '/model.npz') file = join(modelDir, path.slice(1));
    else if (!file.startsWith(root)) file = '';
    if (!file || !existsSync(file) || !statSync(file).isFile()) {
      res.statusCode = 404;
      return res.end('not found');
    }
    res.setHeader('Content-Type', TYPES[extname(file)] ?? 'application/octet-stream');
    res.end(readFileSync(file));
  });
  return new Promise((ok) => server.listen(port, '127.0.0.1', () => ok(server)));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--port');
  const port = at >= 0 ? Number(args[at + 1]) : 8080;
  const isolate = !args.includes('--no-isolation');
  if (!existsSync(join(repo, 'dist/index.js'))) {
    console.error('dist/ is missing: run `npm run build` first');
    process.exit(1);
  }
  const outDir = join(repo, 'build/web');
  // the repository is the package here: the app's `lasagne-webgpu` imports resolve to it (self-reference)
  await buildWithEsbuild({ appDir: here, outDir, packageDir: repo });
  const server = await serve({ dir: outDir, port, isolate });
  const model = existsSync(join(repo, 'start-out/model.json')) && existsSync(join(repo, 'start-out/model.npz'));
  console.log(`http://127.0.0.1:${server.address().port}/  (${isolate ? 'cross-origin isolated' : 'not isolated'}; ` +
    `${model ? 'trained model from start-out/' : 'no start-out/model.json + start-out/model.npz: the page uses the untrained classifier'})`);
}
