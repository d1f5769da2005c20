// End to end in a real browser: Debian's Chromium, headless, WebGPU on SwiftShader, driven by
// playwright-core. The page imports the built package (dist/) and runs the CIFAR-10 network on
// WebGPU ('auto' must pick it) and on WASM; Node runs the same seeded network on WASM; all agree.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as lasagne from 'lasagne-webgpu';

const root = fileURLToPath(new URL('../..', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
const browserSuite = suite('in headless Chromium');

const PAGE = `<!doctype html><meta charset="utf-8"><title>lasagne-webgpu e2e</title>
<script type="importmap">{ "imports": { "fflate": "/node_modules/fflate/esm/browser.js" } }</script>
<script type="module">
  import * as lasagne from '/dist/index.js';
  window.runNet = async (backend) => {
    lasagne.random.setRng(new lasagne.random.RandomState(7));
    const net = lasagne.cifar10Net(4);
    const x = new Float32Array(4 * 3 * 32 * 32).map((_, i) => Math.sin(i * 0.37));
    const network = await lasagne.compile(net, { backend });
    const y = await network.run(lasagne.ndarray(x, [4, 3, 32, 32]));
    const out = { backend: network.backend, device: network.device, shape: y.shape, data: Array.from(y.data) };
    network.dispose();
    return out;
  };
  window.ready = true;
</script>`;

const TYPES = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json', '.map': 'application/json' };

function serve() {
  const server = http.createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    if (path === '/') {
      res.setHeader('content-type', 'text/html');
      return res.end(PAGE);
    }
    const file = normalize(join(root, path));
    if (!file.startsWith(root) || !existsSync(file)) {
      res.statusCode = 404;
      return res.end();
    }
    res.setHeader('content-type', TYPES[extname(file)] ?? 'application/octet-stream');
    res.end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

browserSuite('the CIFAR-10 network runs on WebGPU and WASM in the page and matches Node', async () => {
  if (!existsSync(CHROMIUM)) {
    console.log(`  SKIP browser: ${CHROMIUM} is not installed (npm test installs it as root)`);
    return;
  }
  const { chromium } = await import('playwright-core');
  const server = await serve();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--enable-unsafe-webgpu', '--use-gl=angle', '--use-angle=swiftshader-webgl', '--enable-features=Vulkan',
      '--use-vulkan=swiftshader', '--disable-vulkan-surface', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    await page.waitForFunction(() => window.ready === true, null, { timeout: 30000 });
    const gpu = await page.evaluate(() => window.runNet('webgpu'));
    const auto = await page.evaluate(() => window.runNet('auto'));
    const cpu = await page.evaluate(() => window.runNet('wasm'));
    assert.equal(errors, []);
    assert.is(gpu.backend, 'webgpu');
    // the browser's adapter here is SwiftShader: 'auto' skips it for WASM and says so
    assert.is(auto.backend, 'wasm', "auto skips the browser's software adapter");
    assert.match(auto.device, /'auto' skipped the software WebGPU adapter/);
    assert.is(cpu.backend, 'wasm');
    lasagne.random.setRng(new lasagne.random.RandomState(7));
    const net = lasagne.cifar10Net(4);
    const x = new Float32Array(4 * 3 * 32 * 32).map((_, i) => Math.sin(i * 0.37));
    const network = await lasagne.compile(net, { backend: 'wasm', threads: 1 });
    const ref = await network.run(lasagne.ndarray(x, [4, 3, 32, 32]));
    network.dispose();
    for (const r of [gpu, cpu]) {
      assert.equal(r.shape, [4, 10, 4, 4]);
      let worst = 0;
      r.data.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - ref.data[i]) / (1e-3 + Math.abs(ref.data[i])))));
      assert.ok(worst < 1e-3, `${r.backend} in the browser differs from Node's WASM by ${worst} (relative)`);
    }
  } finally {
    await browser.close();
    server.close();
  }
});

browserSuite.run();
