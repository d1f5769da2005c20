/**
 * The one place that decides the backend. 'auto' picks WebGPU when a hardware adapter exists and
 * WASM otherwise: a software adapter (SwiftShader, llvmpipe, lavapipe, WARP, a fallback adapter) is
 * skipped while the WASM backend can run, since its shaders run on the CPU far slower than the WASM
 * kernels (about 700x on the CIFAR-10 network). An explicit 'webgpu', or a `device` given to
 * compile, uses whatever adapter there is. Backends are loaded on demand, so an app that never uses
 * one does not load its code.
 */
import { RuntimeError, ValueError } from '../errors.js';
import type { AdapterFacts, Backend, BackendName } from './backend.js';

export type BackendChoice = BackendName | 'auto';

async function load(name: BackendName): Promise<Backend> {
  if (name === 'webgpu') return (await import('./webgpu/index.js')).webgpuBackend;
  return (await import('./wasm/index.js')).wasmBackend;
}

/** What `chooseBackend` decides from. */
export interface BackendFacts {
  /** compile was given a GPUDevice. */
  hasDevice: boolean;
  /** The default WebGPU adapter, or null when there is none (not asked for 'wasm'). */
  adapter: AdapterFacts | null;
  /** Whether the WASM backend can run (its kernels load). */
  wasm: boolean;
}

/** The decision: a backend, and the software adapter 'auto' passed over (for `network.device`). */
export interface BackendDecision {
  backend: BackendName;
  skipped: AdapterFacts | null;
}

/**
 * Decides the backend for a `backend` option from what exists here; a pure function. Throws a
 * ValueError for an unknown choice and a RuntimeError when 'webgpu' is asked for and there is no
 * adapter.
 */
export function chooseBackend(choice: unknown, facts: BackendFacts): BackendDecision {
  if (choice !== 'auto' && choice !== 'webgpu' && choice !== 'wasm') {
    throw new ValueError(`compile option 'backend' must be 'auto', 'webgpu' or 'wasm', but got ${JSON.stringify(choice)}`);
  }
  if (choice === 'wasm') return { backend: 'wasm', skipped: null };
  if (facts.hasDevice) return { backend: 'webgpu', skipped: null };
  const adapter = facts.adapter;
  if (choice === 'webgpu') {
    if (adapter !== null) return { backend: 'webgpu', skipped: null };
    throw new RuntimeError(
      "backend 'webgpu' was requested but no WebGPU adapter is available here (in Node, install the optional " +
        "package 'webgpu'; on Linux without a GPU, SwiftShader needs VK_ICD_FILENAMES); use backend: 'auto' to fall back to WASM",
    );
  }
  if (adapter !== null && !adapter.software) return { backend: 'webgpu', skipped: null };
  if (facts.wasm || adapter === null) return { backend: 'wasm', skipped: adapter };
  return { backend: 'webgpu', skipped: null }; // a software adapter is still better than nothing
}

/** The note `network.device` carries when 'auto' passed over a software adapter. */
export function skippedNote(skipped: AdapterFacts | null): string {
  return skipped === null ? '' : `; 'auto' skipped the software WebGPU adapter (${skipped.description}): backend 'webgpu' uses it`;
}

/** The backend for a `backend` option and the adapter 'auto' skipped, or an error saying why it cannot run here. */
export async function pickBackend(choice: unknown, hasDevice: boolean): Promise<{ backend: Backend; skipped: AdapterFacts | null }> {
  if (choice === 'wasm' || (choice !== 'auto' && choice !== 'webgpu')) {
    const { backend } = chooseBackend(choice, { hasDevice, adapter: null, wasm: true });
    return { backend: await load(backend), skipped: null };
  }
  const webgpu = await load('webgpu');
  const adapter = hasDevice ? null : ((await webgpu.adapter?.()) ?? null);
  // WASM is loaded only when it may be chosen
  const wasm = choice === 'auto' && !hasDevice && (adapter === null || adapter.software) ? await load('wasm') : null;
  const decision = chooseBackend(choice, { hasDevice, adapter, wasm: wasm !== null && (await wasm.available()) });
  return { backend: decision.backend === 'webgpu' ? webgpu : (wasm ?? (await load('wasm'))), skipped: decision.skipped };
}

/** The backend for a `backend` option, or an error saying why it cannot run here. */
export async function selectBackend(choice: unknown, hasDevice: boolean): Promise<Backend> {
  return (await pickBackend(choice, hasDevice)).backend;
}
