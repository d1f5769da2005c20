/**
 * The one place that decides the backend. 'auto' picks WebGPU when an adapter exists and WASM
 * otherwise. Backends are loaded on demand, so an app that never uses one does not load its code.
 */
import { RuntimeError, ValueError } from '../errors.js';
import type { Backend, BackendName } from './backend.js';

export type BackendChoice = BackendName | 'auto';

async function load(name: BackendName): Promise<Backend> {
  if (name === 'webgpu') return (await import('./webgpu/index.js')).webgpuBackend;
  return (await import('./wasm/index.js')).wasmBackend;
}

/** The backend for a `backend` option, or an error saying why it cannot run here. */
export async function selectBackend(choice: unknown, hasDevice: boolean): Promise<Backend> {
  if (choice !== 'auto' && choice !== 'webgpu' && choice !== 'wasm') {
    throw new ValueError(`compile option 'backend' must be 'auto', 'webgpu' or 'wasm', but got ${JSON.stringify(choice)}`);
  }
  if (choice === 'wasm') return load('wasm');
  const webgpu = await load('webgpu');
  if (hasDevice || (await webgpu.available())) return webgpu;
  if (choice === 'webgpu') {
    throw new RuntimeError(
      "backend 'webgpu' was requested but no WebGPU adapter is available here (in Node, install the optional " +
        "package 'webgpu'; on Linux without a GPU, SwiftShader needs VK_ICD_FILENAMES); use backend: 'auto' to fall back to WASM",
    );
  }
  return load('wasm');
}
