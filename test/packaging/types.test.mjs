// The published types as a user's project sees them: a consumer file is type-checked against the
// PACKED package (npm pack, installed into a temporary app) with lib ES2022 + @types/node and no
// DOM, under moduleResolution node16, bundler and node10, with skipLibCheck off; and once more with
// @webgpu/types, to pass a real GPUDevice. The published .d.ts must carry no shader text.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { installPacked } from '../support/packed.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tsc = join(root, 'node_modules/typescript/bin/tsc');
const types = suite('published types (packed package)');

const CONSUMER = `
import * as lasagne from 'lasagne-webgpu';
import { Conv2DCCLayer, MaxPool2DCCLayer } from 'lasagne-webgpu/layers/cuda_convnet';

const input = new lasagne.layers.InputLayer([null, 3, 32, 32]);
const conv = new Conv2DCCLayer(input, 16, 5, { pad: 2 });
const pool = new MaxPool2DCCLayer(conv, 3, { stride: 2 });
const x = lasagne.ndarray(new Float32Array(2 * 3 * 32 * 32), [2, 3, 32, 32]);

export async function main(): Promise<number> {
  const network = await lasagne.compile(pool, { batchSize: 2 });
  const y: lasagne.NDArray = await network.run(x);          // one output: an NDArray, no cast
  const both = await lasagne.compile([conv, pool], { batchSize: 2 });
  const ys: lasagne.NDArray[] = await both.run(x);          // several: an array
  // @ts-expect-error a single-output network does not resolve to an array
  const wrong: lasagne.NDArray[] = await network.run(x);
  // @ts-expect-error the device option is a GPUDevice, not a name
  await lasagne.compile(pool, { device: 'gpu0' });
  const any: lasagne.Network = network;
  const m: lasagne.MemoryInfo = lasagne.memory();
  lasagne.layers.clearOutputCache();
  const rng = new lasagne.random.RandomState(42);
  lasagne.random.setRng(rng);
  try {
    lasagne.ndarray(new Float32Array(3), [2]);
  } catch (e) {
    if (e instanceof lasagne.errors.ValueError) return e.name.length;
  }
  const worker = await lasagne.spawnWorker(pool, { batchSize: 1 });
  const w: lasagne.NDArray = await worker.run(lasagne.ndarray(new Float32Array(3 * 32 * 32), [1, 3, 32, 32]));
  return y.data.length + ys.length + wrong.length + m.numBytes + rng.random() + (any.disposed ? 1 : 0) + w.shape.length;
}
`;

const WITH_GPU = `
import * as lasagne from 'lasagne-webgpu';
export async function onDevice(net: lasagne.layers.Layer, device: GPUDevice, adapter: GPUAdapter): Promise<void> {
  const network = await lasagne.compile(net, { device, batchSize: 1 });
  network.dispose();
  const d: lasagne.WebGpuDevice = device;
  // @ts-expect-error an adapter is not a device
  await lasagne.compile(net, { device: adapter });
  void d;
}
`;

const SETTINGS = [
  { name: 'node16', compilerOptions: { module: 'node16', moduleResolution: 'node16' } },
  { name: 'nodenext', compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext' } },
  { name: 'bundler', compilerOptions: { module: 'esnext', moduleResolution: 'bundler' } },
  { name: 'node10', compilerOptions: { module: 'esnext', moduleResolution: 'node10' } },
];

let app = null;
async function theApp() {
  if (app !== null) return app;
  app = mkdtempSync(join(tmpdir(), 'lasagne-types-'));
  process.on('exit', () => rmSync(app, { recursive: true, force: true }));
  await installPacked(app);
  // the user's own type packages: @types/node (and @webgpu/types for the GPUDevice check)
  symlinkSync(join(root, 'node_modules/@types'), join(app, 'node_modules/@types'), 'dir');
  symlinkSync(join(root, 'node_modules/@webgpu'), join(app, 'node_modules/@webgpu'), 'dir');
  writeFileSync(join(app, 'consumer.ts'), CONSUMER);
  writeFileSync(join(app, 'with_gpu.ts'), WITH_GPU);
  return app;
}

function check(dir, name, compilerOptions, files, typesList, lib = ['ES2022']) {
  const config = {
    compilerOptions: {
      target: 'ES2022', lib, types: typesList, strict: true, noEmit: true, skipLibCheck: false,
      ...compilerOptions,
    },
    files,
  };
  writeFileSync(join(dir, `tsconfig.${name}.json`), JSON.stringify(config, null, 2));
  const r = spawnSync(process.execPath, [tsc, '-p', `tsconfig.${name}.json`], { cwd: dir, encoding: 'utf8' });
  return (r.stdout + r.stderr).trim();
}

types('the consumer type-checks under node16, nodenext, bundler and node10 with lib ES2022 + @types/node, no DOM', async () => {
  const dir = await theApp();
  for (const s of SETTINGS) {
    const out = check(dir, s.name, s.compilerOptions, ['consumer.ts'], ['node']);
    assert.is(out, '', `${s.name}:\n${out}`);
  }
});

types('in a browser app (DOM + @webgpu/types) a real GPUDevice is accepted as the device option, and a GPUAdapter is not', async () => {
  const dir = await theApp();
  const out = check(dir, 'gpu', SETTINGS[2].compilerOptions, ['with_gpu.ts'], ['@webgpu/types'], ['ES2022', 'DOM']);
  assert.is(out, '', out);
});

types('the check can fail: a type error in the consumer is reported', async () => {
  const dir = await theApp();
  writeFileSync(join(dir, 'bad.ts'), "import * as lasagne from 'lasagne-webgpu';\nexport const n: string = lasagne.memory();\n");
  const out = check(dir, 'bad', SETTINGS[0].compilerOptions, ['bad.ts'], ['node']);
  assert.match(out, /bad\.ts.*error TS2322/);
});

types('the published .d.ts are small (no shader text as literal types) and the source maps carry their sources', async () => {
  const dir = await theApp();
  const pkg = join(dir, 'node_modules/lasagne-webgpu');
  const walk = (d) => readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? walk(join(d, n)) : [join(d, n)]));
  const files = walk(join(pkg, 'dist'));
  for (const f of files.filter((p) => p.endsWith('.d.ts'))) assert.ok(statSync(f).size < 32768, `${f}: ${statSync(f).size} bytes`);
  const maps = files.filter((p) => p.endsWith('.js.map'));
  assert.ok(maps.length > 10);
  for (const f of maps) {
    const map = JSON.parse(readFileSync(f, 'utf8'));
    assert.ok(Array.isArray(map.sourcesContent) && map.sourcesContent.every((c) => typeof c === 'string' && c.length > 0), `${f} has sourcesContent`);
  }
});

types.run();
