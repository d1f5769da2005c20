/**
 * Test environment for the backends: WebGPU on the CPU through SwiftShader when no GPU is present
 * (Debian's chromium ships the Vulkan ICD; Dawn needs XDG_RUNTIME_DIR), and which backends can run.
 */
import { existsSync, mkdirSync } from 'node:fs';

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
