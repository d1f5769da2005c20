/**
 * `lasagne.memory()`: the device memory held by live (not disposed) networks and trainers, like
 * `tf.memory()`. Whatever allocates device memory registers itself with `trackDeviceMemory` and
 * unregisters with `releaseDeviceMemory` when it frees it: compile()'s networks (getOutput's cached
 * ones included) do, and the trainer (src/compile/training.ts) is meant to do the same:
 *
 * ```ts
 * trackDeviceMemory(trainer, () => prepared.deviceBytes, backend.name, 'trainer'); // after preparing
 * releaseDeviceMemory(trainer);                                                     // in dispose()
 * ```
 *
 * Owners are held weakly: one that is collected without being disposed drops out of the count.
 * Networks of `spawnWorker` live in their workers and are counted there, not here.
 */
import type { BackendName } from '../backend/backend.js';

/** What holds device memory. */
export type MemoryOwnerKind = 'network' | 'trainer';

/** What `memory()` reports. */
export interface MemoryInfo {
  /** Bytes held on all backends together. */
  numBytes: number;
  /** Bytes per backend: WebGPU buffers (arena, parameters, uniforms, readback), WASM linear memory reserved for arenas and parameters. */
  byBackend: { webgpu: number; wasm: number };
  /** Live compiled networks (getOutput's cached networks included). */
  numNetworks: number;
  /** Live trainers. */
  numTrainers: number;
}

interface Entry {
  owner: WeakRef<object>;
  bytes: number | (() => number);
  backend: BackendName;
  kind: MemoryOwnerKind;
}

const entries = new Map<symbol, Entry>();
const tokens = new WeakMap<object, symbol>();
const collected = new FinalizationRegistry<symbol>((token) => entries.delete(token));

function checkBytes(bytes: unknown): void {
  if (typeof bytes === 'function') return;
  if (typeof bytes !== 'number' || !Number.isSafeInteger(bytes) || bytes < 0) {
    throw new TypeError(`trackDeviceMemory requires bytes to be a non-negative integer or a function returning one, but bytes=${String(bytes)}`);
  }
}

/**
 * Counts `bytes` of device memory as held by `owner` until `releaseDeviceMemory(owner)` (or until
 * the owner is garbage-collected). `bytes` may be a function, read at each `memory()` call, for an
 * owner whose allocation changes. Registering an owner again replaces its entry.
 */
export function trackDeviceMemory(owner: object, bytes: number | (() => number), backend: BackendName, kind: MemoryOwnerKind = 'network'): void {
  if (owner === null || (typeof owner !== 'object' && typeof owner !== 'function')) {
    throw new TypeError(`trackDeviceMemory requires owner to be an object, but owner=${String(owner)}`);
  }
  checkBytes(bytes);
  if (backend !== 'webgpu' && backend !== 'wasm') throw new TypeError(`trackDeviceMemory requires backend 'webgpu' or 'wasm', but backend=${String(backend)}`);
  if (kind !== 'network' && kind !== 'trainer') throw new TypeError(`trackDeviceMemory requires kind 'network' or 'trainer', but kind=${String(kind)}`);
  releaseDeviceMemory(owner);
  const token = Symbol('device memory');
  tokens.set(owner, token);
  entries.set(token, { owner: new WeakRef(owner), bytes, backend, kind });
  collected.register(owner, token, owner);
}

/** Stops counting `owner`'s device memory (it freed it). Idempotent; unknown owners are ignored. */
export function releaseDeviceMemory(owner: object): void {
  const token = tokens.get(owner);
  if (token === undefined) return;
  tokens.delete(owner);
  entries.delete(token);
  collected.unregister(owner);
}

/**
 * The device memory held now by live networks and trainers (compile()'s, getOutput's cache, the
 * trainer's), per backend. `layers.clearOutputCache()` frees getOutput's networks;
 * `network.dispose()` frees one network.
 *
 * ```ts
 * lasagne.memory(); // { numBytes: 1843200, byBackend: { webgpu: 1843200, wasm: 0 }, numNetworks: 1, numTrainers: 0 }
 * ```
 */
export function memory(): MemoryInfo {
  const out: MemoryInfo = { numBytes: 0, byBackend: { webgpu: 0, wasm: 0 }, numNetworks: 0, numTrainers: 0 };
  for (const [token, e] of entries) {
    if (e.owner.deref() === undefined) {
      entries.delete(token);
      continue;
    }
    const raw = typeof e.bytes === 'function' ? e.bytes() : e.bytes;
    const bytes = Number.isFinite(raw) && raw > 0 ? raw : 0;
    out.numBytes += bytes;
    out.byBackend[e.backend] += bytes;
    if (e.kind === 'network') out.numNetworks++;
    else out.numTrainers++;
  }
  return out;
}
