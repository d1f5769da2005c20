/**
 * What a WebGPU adapter is, read from what it reports: whether it is a software rasterizer running
 * on the CPU (SwiftShader, llvmpipe, lavapipe, WARP), which backend 'auto' then skips while the
 * WASM backend can run (SwiftShader is about 700x slower than the WASM kernels on the CIFAR-10
 * network here), and a one-line name for `network.device`.
 */

/** The fields of a GPUAdapterInfo this module reads (all optional: implementations differ). */
export interface AdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  /** WebGPU's `GPUAdapterInfo.isFallbackAdapter` (Chrome, Dawn). */
  isFallbackAdapter?: boolean;
  /** An adapter type where an implementation reports one (wgpu's `device_type`, Dawn's `adapterType`). */
  adapterType?: string;
  type?: string;
}

/** Names of software WebGPU/Vulkan/D3D implementations that run shaders on the CPU. */
const SOFTWARE_NAMES = /swiftshader|llvmpipe|lavapipe|softpipe|\bwarp\b|microsoft basic render driver|\bcpu\b/i;

/**
 * Whether an adapter runs on the CPU: `isFallbackAdapter` (on the adapter, `fallback`, or on its
 * info), an adapter type of 'cpu', or a vendor / architecture / device / description naming a
 * software implementation (SwiftShader, llvmpipe, lavapipe, softpipe, WARP or "Microsoft Basic
 * Render Driver", or the word CPU).
 */
export function isSoftwareAdapter(info: AdapterInfoLike | undefined | null, fallback = false): boolean {
  if (fallback || info?.isFallbackAdapter === true) return true;
  if (info === undefined || info === null) return false;
  for (const t of [info.adapterType, info.type]) if (typeof t === 'string' && /^cpu$/i.test(t)) return true;
  const text = [info.vendor, info.architecture, info.device, info.description].filter((s) => typeof s === 'string').join(' ');
  return SOFTWARE_NAMES.test(text);
}

/** Adapter vendor, architecture, device and description as one line (whatever the implementation reports). */
export function describeAdapter(info: AdapterInfoLike | undefined | null): string {
  if (info === undefined || info === null) return 'WebGPU device';
  const parts = [info.vendor, info.architecture, info.device, info.description].filter((p): p is string => typeof p === 'string' && p !== '');
  const unique = parts.filter((p, i) => parts.indexOf(p) === i);
  return unique.length > 0 ? `WebGPU: ${unique.join(' ')}` : 'WebGPU device';
}
