// The example page (examples/web) as a user's app builds it: the packed package (npm pack, not
// dist/) installed into a temporary app, bundled by esbuild and by Vite (minified), served with and
// without cross-origin isolation, run in headless Chromium (WebGPU on SwiftShader) on WebGPU and on
// WASM with the default thread count, in the page and in a worker; results equal Node's, and a
// screenshot shows the probability bars.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import * as lasagne from 'lasagne-webgpu';
import { buildWithEsbuild, buildWithVite, serve } from '../../examples/web/serve.mjs';
import { fashionClassifier } from '../../examples/web/model.js';
import { installPacked } from '../support/packed.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
const page = suite('examples/web, bundled from the packed package, in headless Chromium');

const BATCH = 8;
const input = new Float32Array(BATCH * 28 * 28).map((_, i) => ((i * 37) % 101) / 100);

/** Node's answer: the page's untrained classifier (same seed), WASM on one thread. */
async function nodeReference() {
  const network = await lasagne.compile(fashionClassifier(), { backend: 'wasm', threads: 1, batchSize: BATCH });
  const y = await network.run(lasagne.ndarray(input, [BATCH, 1, 28, 28]));
  network.dispose();
  return y;
}

/**
 * Tolerance of a WASM result against Node's (plain SIMD kernels, one thread): 1e-6 when the page ran
 * the plain build too; Chromium validates the relaxed-SIMD build, whose relaxed_madd rounds once
 * where the plain build rounds twice (FMA): each sum of N terms may then move by about N u sum|terms|,
 * up to ~5e-5 of compare's relative measure (its 1e-3 floor) here, where a dropped or doubled term
 * moves it by far more than 2e-4.
 */
const wasmTolerance = (r) => (/relaxed SIMD/.test(r.describe) ? 2e-4 : 1e-6);

function compare(r, ref, tolerance, label) {
  assert.equal(r.shape, ref.shape, `${label}: shape`);
  let worst = 0;
  r.output.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - ref.data[i]) / (1e-3 + Math.abs(ref.data[i])))));
  assert.ok(worst <= tolerance, `${label}: differs from Node by ${worst} (relative), more than ${tolerance}`);
}

/** Pixels of the bars' two colours in a PNG screenshot: [blue (other classes), orange (the top one)]. */
function barPixels(png) {
  const img = PNG.sync.read(png);
  let blue = 0;
  let orange = 0;
  const near = (i, [r, g, b]) => Math.abs(img.data[i] - r) + Math.abs(img.data[i + 1] - g) + Math.abs(img.data[i + 2] - b) < 24;
  for (let i = 0; i < img.data.length; i += 4) {
    if (near(i, [0x3b, 0x7d, 0xdd])) blue++;
    else if (near(i, [0xe0, 0x66, 0x3a])) orange++;
  }
  return [blue, orange];
}

page('esbuild and Vite builds run on WebGPU and WASM, in the page and in a worker, isolated or not, and match Node', async () => {
  if (!existsSync(CHROMIUM)) {
    console.log(`  SKIP browser: ${CHROMIUM} is not installed (npm test installs it as root)`);
    return;
  }
  const ref = await nodeReference();
  const app = mkdtempSync(join(tmpdir(), 'lasagne-web-app-'));
  const servers = [];
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--enable-unsafe-webgpu', '--use-gl=angle', '--use-angle=swiftshader-webgl', '--enable-features=Vulkan',
      '--use-vulkan=swiftshader', '--disable-vulkan-surface', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  try {
    for (const f of ['index.html', 'style.css', 'app.js', 'model.js']) cpSync(join(root, 'examples/web', f), join(app, f));
    const packageDir = await installPacked(app);
    assert.ok(!packageDir.startsWith(root), 'the app uses the installed tarball, not the repository');
    const builds = {
      esbuild: join(app, 'out-esbuild'),
      vite: join(app, 'out-vite'),
    };
    await buildWithEsbuild({ appDir: app, outDir: builds.esbuild, packageDir, minify: true });
    await buildWithVite({ appDir: app, outDir: builds.vite, minify: true });
    const empty = join(app, 'no-model');
    mkdirSync(empty);
    for (const [bundler, dir] of Object.entries(builds)) {
      for (const isolate of [true, false]) {
        const label = `${bundler}, ${isolate ? 'isolated' : 'not isolated'}`;
        const server = await serve({ dir, isolate, modelDir: empty });
        servers.push(server);
        const tab = await browser.newPage({ viewport: { width: 1000, height: 900 } });
        const errors = [];
        tab.on('pageerror', (e) => errors.push(e.message));
        await tab.goto(`http://127.0.0.1:${server.address().port}/?backend=wasm&where=worker`);
        await tab.waitForFunction(() => window.demo !== undefined, null, { timeout: 60000 });
        await tab.evaluate(() => window.demo.ready);
        const env = await tab.evaluate(() => ({ isolated: window.demo.isolated, sab: typeof SharedArrayBuffer === 'function', threads: navigator.hardwareConcurrency }));
        assert.is(env.isolated, isolate, `${label}: crossOriginIsolated`);
        assert.is(env.sab, isolate, `${label}: SharedArrayBuffer present exactly when isolated`);
        assert.match(await tab.textContent('#weights'), 'No trained weights were found', `${label}: says the weights are missing`);
        assert.match(await tab.textContent('#engine'), 'WebAssembly in a worker', `${label}: names the backend`);
        const runs = {};
        for (const backend of ['wasm', 'webgpu']) {
          for (const where of ['worker', 'page']) {
            const r = await tab.evaluate(([x, b, be, w]) => window.demo.runBatch(x, b, be, w), [Array.from(input), BATCH, backend, where]);
            assert.is(r.backend, backend, `${label}, ${backend} in the ${where}`);
            compare(r, ref, backend === 'wasm' ? wasmTolerance(r) : 1e-3, `${label}, ${backend} in the ${where} (${r.describe})`);
            runs[`${backend}/${where}`] = r.describe;
          }
        }
        // WASM with the default thread count splits the batch over worker threads (nested in the
        // spawnWorker worker, too), sharing memory exactly when the page is isolated
        if (env.threads >= 2) {
          for (const where of ['worker', 'page']) {
            assert.match(runs[`wasm/${where}`], /\d worker threads/, `${label}: WASM default threads in the ${where}: ${runs[`wasm/${where}`]}`);
            assert.is(runs[`wasm/${where}`].includes('shared memory'), isolate, `${label}: ${runs[`wasm/${where}`]}`);
          }
        }
        // the page classified its own drawing (the T-shirt sample) before `ready`: its bars are
        // drawn in proportion to the probabilities of what the network saw
        const shown = await tab.evaluate(async () => {
          const pad = document.getElementById('seen').getContext('2d').getImageData(0, 0, 28, 28).data;
          return window.demo.classify(Array.from({ length: 784 }, (_, i) => pad[4 * i] / 255));
        });
        await tab.waitForTimeout(200);   // the bars' width transition
        const [blue, orange] = barPixels(await tab.locator('#bars').screenshot());
        const top = Math.max(...shown.probabilities);
        const share = orange / (blue + orange);
        assert.ok(blue > 0 && orange > 0, `${label}: bars drawn (blue ${blue}, orange ${orange} pixels)`);
        assert.ok(Math.abs(share - top) < 0.04, `${label}: the top bar's share of bar pixels ${share.toFixed(3)} is its probability ${top.toFixed(3)}`);
        assert.equal(errors, [], `${label}: page errors`);
        await tab.close();
      }
    }
    // an esbuild build without the worker entry points: the errors name the URL tried and the way out
    const bare = join(app, 'out-bare');
    await buildWithEsbuild({ appDir: app, outDir: bare, packageDir, workers: false });
    const bareServer = await serve({ dir: bare, isolate: false, modelDir: empty });
    servers.push(bareServer);
    const bareTab = await browser.newPage();
    const base = `http://127.0.0.1:${bareServer.address().port}/`;
    await bareTab.goto(`${base}?backend=wasm&where=page`);
    await bareTab.waitForFunction(() => window.demo !== undefined, null, { timeout: 60000 });
    await bareTab.evaluate(() => window.demo.ready);
    const failures = await bareTab.evaluate(async ([x, b]) => {
      const out = [];
      for (const where of ['page', 'worker']) {
        try {
          await window.demo.runBatch(x, b, 'wasm', where);
          out.push('ran');
        } catch (e) {
          // the class survives minification and the trip from the worker
          out.push(`${e instanceof window.demo.errors.RuntimeError ? 'RuntimeError' : `not a RuntimeError (${e.name})`}: ${e.message}`);
        }
      }
      return out;
    }, [Array.from(input), BATCH]);
    if ((await bareTab.evaluate(() => navigator.hardwareConcurrency)) >= 2) {
      assert.ok(failures[0].startsWith('RuntimeError: ') && failures[0].includes(`failed to start from ${base}worker.js`) && failures[0].includes('threads: 1'), `WASM threads: ${failures[0]}`);
    }
    assert.ok(failures[1].startsWith('RuntimeError: ') && failures[1].includes(`worker 0 failed to start from ${base}inference_worker.js`) && failures[1].includes('Bundlers'), `spawnWorker: ${failures[1]}`);
    await bareTab.close();
    // with start-out/model.json and start-out/model.npz (as `npm start` writes them) the page runs that model
    const trained = fashionClassifier();
    lasagne.setAllParamValues(trained, lasagne.getAllParamValues(trained).map((v) => ({ data: v.data.map((x, i) => x * 2 + (i % 3) * 0.01), shape: v.shape })));
    const modelDir = join(app, 'model');
    mkdirSync(modelDir);
    writeFileSync(join(modelDir, 'model.json'), JSON.stringify(lasagne.layers.toJSON(trained)));
    writeFileSync(join(modelDir, 'model.npz'), lasagne.saveNpz(lasagne.getAllParamValues(trained)));
    const network = await lasagne.compile(trained, { backend: 'wasm', threads: 1, batchSize: BATCH });
    const trainedRef = await network.run(lasagne.ndarray(input, [BATCH, 1, 28, 28]));
    network.dispose();
    const server = await serve({ dir: builds.esbuild, isolate: true, modelDir });
    servers.push(server);
    const tab = await browser.newPage();
    await tab.goto(`http://127.0.0.1:${server.address().port}/`);
    await tab.waitForFunction(() => window.demo !== undefined, null, { timeout: 60000 });
    await tab.evaluate(() => window.demo.ready);
    assert.match(await tab.textContent('#weights'), 'Trained weights from start-out/model.json');
    const r = await tab.evaluate(([x, b]) => window.demo.runBatch(x, b, 'wasm', 'worker'), [Array.from(input), BATCH]);
    compare(r, trainedRef, wasmTolerance(r), `the served model (${r.describe})`);
    assert.ok(r.output.some((v, i) => Math.abs(v - ref.data[i]) > 1e-3), 'the served model is not the untrained one');
  } finally {
    await browser.close();
    for (const s of servers) s.close();
    rmSync(app, { recursive: true, force: true });
  }
});

page.run();
