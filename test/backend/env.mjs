/**
 * Test environment for the backends: WebGPU on the CPU through SwiftShader when no GPU is present
 * (Debian's chromium ships the Vulkan ICD; Dawn needs XDG_RUNTIME_DIR), and which backends can run.
 */
import { existsSync, mkdirSync } from 'node:fs';
import * as assert from 'uvu/assert';

const ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (!process.env.VK_ICD_FILENAMES && existsSync(ICD)) process.env.VK_ICD_FILENAMES = ICD;
if (!process.env.XDG_RUNTIME_DIR) {
  process.env.XDG_RUNTIME_DIR = '/tmp/lasagne-webgpu-xdg';
  mkdirSync(process.env.XDG_RUNTIME_DIR, { recursive: true });
}

/** Backends that can run here: [name, reason-if-not]. */
export async function backendsHere() {
  const out = [];
  for (const name of ['wasm', 'webgpu']) {
    try {
      const mod = await import(`../../dist/backend/${name}/index.js`);
      const backend = name === 'wasm' ? mod.wasmBackend : mod.webgpuBackend;
      out.push([name, (await backend.available()) ? null : 'not available here (no adapter)']);
    } catch (e) {
      out.push([name, `not built (${e.message.split('\n')[0]})`]);
    }
  }
  return out;
}

// Dawn's GPU objects must outlive their devices: a collected one takes the process down. Every
// test file that imports this module may make one; all are kept for the life of the process.
const gpus = [];

/**
 * A WebGPU device of the test's own (the caller destroys it), created with the backend's Dawn
 * toggles, or the reason there is none. `limits: true` also asks for the adapter's largest buffers.
 */
export async function testDevice({ limits = false } = {}) {
  let webgpu;
  try {
    webgpu = await import('webgpu');
  } catch (e) {
    return { reason: `the optional 'webgpu' package is not installed (${e.message.split('\n')[0]})` };
  }
  const { NODE_DAWN_FLAGS } = await import('../../dist/backend/webgpu/device.js');
  // the backend's own Dawn toggles: exact timestamps, no workgroup zero-init (slow to JIT on SwiftShader)
  const gpu = webgpu.create([...NODE_DAWN_FLAGS]);
  gpus.push(gpu);
  const adapter = await gpu.requestAdapter();
  if (!adapter) return { reason: `no WebGPU adapter (no GPU, and no SwiftShader Vulkan ICD at ${ICD})` };
  const device = await adapter.requestDevice({
    requiredFeatures: adapter.features.has('timestamp-query') ? ['timestamp-query'] : [],
    ...(limits ? { requiredLimits: { maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize, maxBufferSize: adapter.limits.maxBufferSize } } : {}),
  });
  return { device };
}

/** Awaits fn() and checks that it rejects with an error satisfying `check`. */
export async function rejects(fn, check, label) {
  let error = null;
  try {
    await fn();
  } catch (e) {
    error = e;
  }
  assert.ok(error !== null, `${label}: did not throw`);
  assert.ok(check(error), `${label}: wrong error ${error && error.constructor.name}: ${error && error.message}`);
}
