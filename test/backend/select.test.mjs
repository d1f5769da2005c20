// Backend selection, both ways, and the backends against each other on the same networks.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { backendsHere } from './env.mjs';
import * as lasagne from 'lasagne-webgpu';
import { Conv2DCCLayer, MaxPool2DCCLayer, NINLayer_c01b, ShuffleBC01ToC01BLayer } from 'lasagne-webgpu/layers/cuda_convnet';
import { uniform } from '../reference/random.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const here = Object.fromEntries(await backendsHere());
const select = suite('backend selection');

const probe = `import * as l from 'lasagne-webgpu';
const n = await l.compile(l.cifar10Net(2));
console.log(n.backend);
n.dispose();
process.exit(0);`;

const probeDevice = probe.replace('console.log(n.backend);', 'console.log(JSON.stringify({ backend: n.backend, device: n.device }));');

select("'auto' skips a software adapter (SwiftShader here) for WASM and names it; 'webgpu' still uses it", () => {
  if (here.webgpu !== null || here.wasm !== null) return console.log(`  SKIP auto skips software: webgpu is ${here.webgpu}, wasm is ${here.wasm}`);
  const run = (code) => execFileSync(process.execPath, ['--input-type=module', '-e', code], { cwd: root, encoding: 'utf8', env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const auto = JSON.parse(run(probeDevice).trim());
  assert.is(auto.backend, 'wasm');
  assert.match(auto.device, /^WebAssembly (relaxed )?SIMD/);
  assert.match(auto.device, /'auto' skipped the software WebGPU adapter \(WebGPU: .*swiftshader/i);
  const strict = JSON.parse(run(probeDevice.replace('l.cifar10Net(2)', "l.cifar10Net(2), { backend: 'webgpu' }")).trim());
  assert.is(strict.backend, 'webgpu');
  assert.match(strict.device, /^WebGPU: .*swiftshader/i);
});

select("'auto' falls back to WASM when there is no adapter, 'webgpu' then says why, and no Vulkan loader warning is printed", () => {
  if (here.wasm !== null) return console.log(`  SKIP auto -> wasm: wasm is ${here.wasm}`);
  // A Vulkan ICD list naming no driver: Dawn finds no adapter (and is not even loaded).
  const env = { ...process.env, VK_ICD_FILENAMES: '/nonexistent/icd.json', XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR };
  const run = (code) => spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: root, encoding: 'utf8', env });
  const out = run(probe);
  assert.is(out.stdout.trim(), 'wasm');
  assert.is(out.stderr, '', 'nothing on stderr (the Vulkan loader warns "Found no drivers!" when Dawn is loaded)');
  const strict = probe.replace('l.compile(l.cifar10Net(2))', "l.compile(l.cifar10Net(2), { backend: 'webgpu' }).catch((e) => { console.log(e.name + ': ' + e.message); process.exit(0); })");
  const msg = run(strict);
  assert.match(msg.stdout.trim(), /^RuntimeError: backend 'webgpu' was requested but no WebGPU adapter is available here/);
  assert.is(msg.stderr, '');
});

const choose = suite('chooseBackend and isSoftwareAdapter (fake adapters)');

choose('software adapters are recognised by name, info flag, adapter flag or type; hardware ones are not', async () => {
  const { isSoftwareAdapter } = await import('../../dist/backend/adapter.js');
  const software = [
    [{ vendor: 'google', architecture: 'swiftshader', device: 'swiftshader-device-subzero-', description: 'SwiftShader driver 5.0.0' }],
    [{ vendor: 'mesa', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' }],
    [{ description: 'lavapipe' }],
    [{ vendor: 'microsoft', description: 'Microsoft Basic Render Driver' }],
    [{ architecture: 'warp' }],
    [{ vendor: 'x', description: 'a CPU device' }],
    [{ vendor: 'nvidia', isFallbackAdapter: true }],
    [{ vendor: 'nvidia' }, true],
    [{ adapterType: 'cpu' }],
    [{ type: 'CPU' }],
    [undefined, true],
  ];
  for (const [info, fallback] of software) assert.ok(isSoftwareAdapter(info, fallback), JSON.stringify(info));
  const hardware = [
    { vendor: 'nvidia', architecture: 'hopper', device: '', description: 'NVIDIA H100 80GB HBM3', isFallbackAdapter: false },
    { vendor: 'apple', architecture: 'metal-3', description: 'Apple M2' },
    { vendor: 'intel', architecture: 'gen-12lp', description: 'Intel(R) UHD Graphics 770' },
    { vendor: 'amd', architecture: 'rdna-3', description: 'AMD Radeon RX 7900 XTX', adapterType: 'discrete GPU' },
    { vendor: 'microsoft-hardware', description: 'Network adapter' }, // 'warp' only as a word
    {},
  ];
  for (const info of hardware) assert.not.ok(isSoftwareAdapter(info), JSON.stringify(info));
  assert.not.ok(isSoftwareAdapter(undefined));
});

choose("'auto' takes a hardware adapter, skips a software one for WASM, takes it when WASM cannot run; 'webgpu' and a device take any", async () => {
  const { chooseBackend } = await import('../../dist/backend/select.js');
  const hw = { description: 'WebGPU: nvidia hopper', software: false };
  const sw = { description: 'WebGPU: google swiftshader', software: true };
  const c = (choice, facts) => chooseBackend(choice, { hasDevice: false, adapter: null, wasm: true, ...facts });
  assert.equal(c('auto', { adapter: hw }), { backend: 'webgpu', skipped: null });
  assert.equal(c('auto', { adapter: sw }), { backend: 'wasm', skipped: sw });
  assert.equal(c('auto', { adapter: sw, wasm: false }), { backend: 'webgpu', skipped: null });
  assert.equal(c('auto', { adapter: null }), { backend: 'wasm', skipped: null });
  assert.equal(c('auto', { hasDevice: true }), { backend: 'webgpu', skipped: null });
  assert.equal(c('webgpu', { adapter: sw }), { backend: 'webgpu', skipped: null });
  assert.equal(c('webgpu', { adapter: hw }), { backend: 'webgpu', skipped: null });
  assert.equal(c('webgpu', { hasDevice: true }), { backend: 'webgpu', skipped: null });
  assert.equal(c('wasm', { adapter: hw }), { backend: 'wasm', skipped: null });
  assert.throws(() => c('webgpu', { adapter: null }), (e) => e instanceof lasagne.errors.RuntimeError && /no WebGPU adapter/.test(e.message));
  assert.throws(() => c('gpu', {}), (e) => e instanceof lasagne.errors.ValueError && /'backend'.*"gpu"/.test(e.message));
});

choose('the Vulkan driver search reads the loader\'s places, and a list naming no file finds no driver', async () => {
  const { vulkanDriverPlaces, anyVulkanDriver } = await import('../../dist/backend/webgpu/drivers.js');
  const only = vulkanDriverPlaces({ VK_ICD_FILENAMES: '/a/x.json:/b', VK_ADD_DRIVER_FILES: '/c/y.json' }, '/home/u');
  assert.equal(only, { files: ['/a/x.json', '/b', '/c/y.json'], folders: [] });
  assert.equal(vulkanDriverPlaces({ VK_DRIVER_FILES: '/d.json', VK_ICD_FILENAMES: '/e.json' }, '/h').files, ['/d.json']);
  const std = vulkanDriverPlaces({}, '/home/u');
  for (const f of ['/home/u/.config/vulkan/icd.d', '/etc/xdg/vulkan/icd.d', '/etc/vulkan/icd.d', '/home/u/.local/share/vulkan/icd.d', '/usr/local/share/vulkan/icd.d', '/usr/share/vulkan/icd.d']) {
    assert.ok(std.folders.includes(f), f);
  }
  const fakeFs = (tree) => ({
    statSync: (p) => (p in tree ? { isFile: () => tree[p] === 'file', isDirectory: () => Array.isArray(tree[p]) } : undefined),
    readdirSync: (p) => {
      if (!Array.isArray(tree[p])) throw new Error('ENOENT');
      return tree[p];
    },
  });
  assert.ok(anyVulkanDriver(fakeFs({ '/usr/share/vulkan/icd.d': ['nvidia_icd.json'] }), std));
  assert.not.ok(anyVulkanDriver(fakeFs({ '/usr/share/vulkan/icd.d': ['README'], '/etc/vulkan/icd.d': [] }), std));
  assert.not.ok(anyVulkanDriver(fakeFs({}), only));
  assert.ok(anyVulkanDriver(fakeFs({ '/a/x.json': 'file' }), only));
  assert.ok(anyVulkanDriver(fakeFs({ '/b': ['sw.json'] }), only));
});

select('an unknown backend name is refused', async () => {
  const e = await lasagne.compile(lasagne.cifar10Net(2), { backend: 'cuda' }).then(() => null, (err) => err);
  assert.ok(e instanceof lasagne.errors.ValueError && /'auto', 'webgpu' or 'wasm'/.test(e.message));
});

const cross = suite('WebGPU and WASM agree');

cross('the same random networks give the same outputs on both backends, within float32 rounding', async () => {
  if (here.webgpu !== null || here.wasm !== null) return console.log('  SKIP cross-backend: needs both backends');
  const { InputLayer } = lasagne.layers;
  for (const [i, batch] of [1, 5, 33].entries()) {
    lasagne.random.setRng(new lasagne.random.RandomState(100 + i));
    let net = new InputLayer([batch, 3, 12, 12]);
    net = new Conv2DCCLayer(net, 16, 3, { pad: 'same', nonlinearity: lasagne.nonlinearities.elu, untieBiases: i === 1 });
    net = new MaxPool2DCCLayer(net, 3, { stride: 2 });
    net = new Conv2DCCLayer(net, 32, 3, { stride: 2, flipFilters: true });
    net = new ShuffleBC01ToC01BLayer(net);
    net = new NINLayer_c01b(net, 10, { nonlinearity: lasagne.nonlinearities.tanh });
    const x = uniform([batch, 3, 12, 12], 7 + i, -1, 1);
    const input = lasagne.ndarray(Float32Array.from(x.data), x.shape);
    const outs = [];
    for (const backend of ['webgpu', 'wasm']) {
      const network = await lasagne.compile(net, { backend });
      outs.push(await network.run(input));
      network.dispose();
    }
    assert.equal(outs[0].shape, outs[1].shape);
    // Three layers of float32 sums in different orders: the outputs (tanh, |y| <= 1) agree to 1e-5.
    let worst = 0;
    outs[0].data.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - outs[1].data[j]))));
    assert.ok(worst <= 1e-5, `batch ${batch}: largest difference ${worst}`);
    assert.ok(outs[0].data.some((v) => v !== 0), 'a non-trivial output');
  }
});

select.run();
choose.run();
cross.run();
