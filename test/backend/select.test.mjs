// Backend selection, both ways, and the backends against each other on the same networks.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
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

select("'auto' picks WebGPU when an adapter exists", () => {
  if (here.webgpu !== null) return console.log(`  SKIP auto -> webgpu: webgpu is ${here.webgpu}`);
  const env = { ...process.env };
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', probe], { cwd: root, encoding: 'utf8', env }).trim();
  assert.is(out, 'webgpu');
});

select("'auto' falls back to WASM when there is no adapter, and 'webgpu' then says why it cannot run", () => {
  if (here.wasm !== null) return console.log(`  SKIP auto -> wasm: wasm is ${here.wasm}`);
  // A Vulkan ICD list naming no driver: Dawn finds no adapter.
  const env = { ...process.env, VK_ICD_FILENAMES: '/nonexistent/icd.json', XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR };
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', probe], { cwd: root, encoding: 'utf8', env }).trim();
  assert.is(out, 'wasm');
  const strict = probe.replace('l.compile(l.cifar10Net(2))', "l.compile(l.cifar10Net(2), { backend: 'webgpu' }).catch((e) => { console.log(e.name + ': ' + e.message); process.exit(0); })");
  const msg = execFileSync(process.execPath, ['--input-type=module', '-e', strict], { cwd: root, encoding: 'utf8', env }).trim();
  assert.match(msg, /^RuntimeError: backend 'webgpu' was requested but no WebGPU adapter is available here/);
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
cross.run();
