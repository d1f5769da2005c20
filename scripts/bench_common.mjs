// Helpers the benchmark scripts share (bench_backward.mjs, bench_train.mjs): the WebGPU device
// (ours: the backend's Dawn toggles, timestamp queries, the adapter's largest limits), tfjs-webgpu in
// the same process on its own Dawn instance (timestamp quantization off), tfjs kernel times from
// tf.time, a Python with PyTorch for the cuDNN side, deterministic data, layout permutations and a
// table printer. Not a test and not part of the package.
import { existsSync, mkdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

// SwiftShader when there is no NVIDIA device and nothing chose a Vulkan driver already
const ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (!process.env.VK_ICD_FILENAMES && existsSync(ICD) && !existsSync('/dev/nvidia0')) process.env.VK_ICD_FILENAMES = ICD;
if (!process.env.XDG_RUNTIME_DIR) {
  process.env.XDG_RUNTIME_DIR = '/tmp/lasagne-webgpu-xdg';
  mkdirSync(process.env.XDG_RUNTIME_DIR, { recursive: true });
}

const root = new URL('../', import.meta.url);
// Dawn's GPU objects must stay referenced while their devices are used (a collected one crashes the process)
const gpus = [];

/**
 * Our device: the backend's Dawn toggles (plus `extraFlags`, for experiments), timestamp queries when
 * present, the adapter's largest buffers and workgroup memory. null when there is no adapter.
 */
export async function ourDevice(label = 'bench (lasagne-webgpu)', extraFlags = []) {
  const webgpu = await import('webgpu');
  Object.assign(globalThis, webgpu.globals);
  const { NODE_DAWN_FLAGS } = await import(new URL('dist/backend/webgpu/device.js', root));
  const gpu = webgpu.create([...NODE_DAWN_FLAGS, ...extraFlags]);
  gpus.push(gpu);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) return null;
  const al = adapter.limits;
  const device = await adapter.requestDevice({
    label,
    requiredFeatures: adapter.features.has('timestamp-query') ? ['timestamp-query'] : [],
    requiredLimits: {
      maxStorageBufferBindingSize: al.maxStorageBufferBindingSize,
      maxBufferSize: al.maxBufferSize,
      maxComputeWorkgroupStorageSize: al.maxComputeWorkgroupStorageSize,
    },
  });
  const info = adapter.info ?? {};
  const name = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ');
  return { device, name, timestamps: device.features.has('timestamp-query'), software: /swiftshader|llvmpipe|lavapipe/i.test(name) };
}

/** tfjs-core with the webgpu backend on its own Dawn instance (timestamp quantization off), or null and why. */
export async function loadTfjs() {
  try {
    const webgpu = await import('webgpu');
    const tfGpu = webgpu.create(['disable-dawn-features=timestamp_quantization']);
    gpus.push(tfGpu);
    if (globalThis.navigator === undefined) globalThis.navigator = { gpu: tfGpu };
    else Object.defineProperty(globalThis.navigator, 'gpu', { value: tfGpu, configurable: true });
    const tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-backend-webgpu');
    if (!(await tf.setBackend('webgpu'))) throw new Error('tf.setBackend("webgpu") failed');
    await tf.ready();
    return { tf, why: null };
  } catch (e) {
    return { tf: null, why: e.message.split('\n')[0] };
  }
}

/**
 * Registers tfjs's gradients (tf.train optimizers need them; tfjs-core's Node bundle has none): the
 * Node bundle of @tensorflow/tfjs-layers registers them all, as the @tensorflow/tfjs umbrella does.
 * Not a dependency of this package: `npm install --no-save @tensorflow/tfjs-layers@4.22.0`.
 * Returns null, or why not.
 */
export async function loadTfjsGradients() {
  try {
    await import('@tensorflow/tfjs-layers');
    return null;
  } catch (e) {
    return `@tensorflow/tfjs-layers is not installed (npm install --no-save @tensorflow/tfjs-layers@4.22.0): ${e.message.split('\n')[0]}`;
  }
}

/**
 * Kernel ms per op of tfjs: `repeat` calls of op() back to back inside tf.time (no readback in
 * between), the sum of each call's programs, median over the second half of the calls of 3 rounds.
 * `op` returns a tensor (disposed here).
 */
export async function tfjsKernelMs(tf, op, repeat) {
  const perOp = [];
  for (let round = 0; round < 3; round++) {
    const t = await tf.time(() => {
      for (let r = 0; r < repeat; r++) op().dispose();
    });
    const info = t.getExtraProfileInfo ? t.getExtraProfileInfo() : '';
    const times = info ? info.split(', ').map((e) => Number(e.slice(e.lastIndexOf(': ') + 2))) : [];
    if (times.length === 0 || times.length % repeat !== 0) {
      perOp.push(t.kernelMs / repeat);
      continue;
    }
    const programs = times.length / repeat;
    for (let r = Math.floor(repeat / 2); r < repeat; r++) perOp.push(times.slice(r * programs, (r + 1) * programs).reduce((a, v) => a + v, 0));
  }
  return median(perOp);
}

/** Repetitions for about `targetMs` of back-to-back work (the GPU's clocks ramp up), within [lo, hi]. */
export function repeatsFor(ms, targetMs, lo, hi) {
  return Math.max(lo, Math.min(hi, Math.ceil(targetMs / Math.max(ms, 1e-3))));
}

/**
 * A python3 that imports torch: $PYTHON, else `python3`, else /usr/bin/python3; null and why when none does.
 */
export function findPython() {
  const candidates = [process.env.PYTHON, 'python3', '/usr/bin/python3'].filter(Boolean);
  const tried = [];
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', 'import torch; print(torch.__version__, torch.cuda.is_available())'], { encoding: 'utf8' });
    if (r.status === 0) return { python: py, torch: r.stdout.trim(), why: null };
    tried.push(`${py}: ${r.error ? r.error.code : (r.stderr || '').trim().split('\n').pop()}`);
  }
  return { python: null, torch: null, why: `no python3 with torch (${tried.join('; ')})` };
}

/**
 * Runs a python script that prints 'device: ...' and a last 'JSON {...}' line (--json is added);
 * returns { json, device, text } or { why }.
 */
export function runPython(script, args, { timeoutMs = 600_000, env = {} } = {}) {
  const py = findPython();
  if (py.python === null) return { why: py.why };
  const r = spawnSync(py.python, [new URL(script, root).pathname, '--json', ...args], {
    encoding: 'utf8', maxBuffer: 64 * 2 ** 20, timeout: timeoutMs, env: { ...process.env, PYTHONUNBUFFERED: '1', ...env },
  });
  const text = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.status !== 0) return { why: `${py.python} ${script} failed (status ${r.status}${r.error ? `, ${r.error.message}` : ''}): ${text.trim().split('\n').slice(-3).join(' | ')}`, text };
  return parsePythonOutput(text);
}

/** { json, device, text } of a python bench script's output, or { why }. */
export function parsePythonOutput(text) {
  const lines = text.split('\n');
  const jsonLine = lines.find((l) => l.startsWith('JSON '));
  if (!jsonLine) return { why: "no 'JSON ' line in the python output", text };
  const device = lines.find((l) => l.startsWith('device: '));
  return { json: JSON.parse(jsonLine.slice(5)), device: device ? device.slice(8) : '', text };
}

/** Deterministic pseudo-random floats in [lo, hi) (an LCG; both sides get the same values). */
export function randomData(n, seed, lo = -1, hi = 1) {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = lo + ((hi - lo) * s) / 4294967296;
  }
  return out;
}

/** A 4-D C-order array of `shape` transposed by `perm` (e.g. c01b (C,H,W,B) -> NHWC (B,H,W,C): [3, 1, 2, 0]). */
export function permute(data, shape, perm) {
  const outShape = perm.map((p) => shape[p]);
  const strides = [shape[1] * shape[2] * shape[3], shape[2] * shape[3], shape[3], 1];
  const out = new Float32Array(data.length);
  let o = 0;
  const [s0, s1, s2, s3] = perm.map((p) => strides[p]);
  for (let a = 0; a < outShape[0]; a++)
    for (let b = 0; b < outShape[1]; b++)
      for (let c = 0; c < outShape[2]; c++)
        for (let d = 0; d < outShape[3]; d++) out[o++] = data[a * s0 + b * s1 + c * s2 + d * s3];
  return out;
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** max |a - b| / max |b| (0 when both are 0). */
export function relDiff(a, b) {
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return m === 0 ? d : d / m;
}

export const fmt = (v, d = 3) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(d) : '-');

/** Prints a markdown table, columns right-aligned. */
export function printTable(header, rows) {
  const cells = rows.map((r) => r.map(String));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c) => `| ${c.map((x, i) => x.padStart(widths[i])).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const c of cells) console.log(line(c));
}

/** Destroys what was made and ends the process (the webgpu package keeps it alive otherwise). */
export function finish(code = 0, devices = []) {
  for (const d of devices) d?.destroy?.();
  gpus.length = 0;
  process.exit(code);
}
