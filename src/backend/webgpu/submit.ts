/// <reference types="@webgpu/types" />
/**
 * What a prepared network (prepared.ts) and a prepared training plan (training.ts) do alike on their
 * device: the kernel limits they plan with, the uniform slot stride, waiting for a build's uploads,
 * popping error scopes, and turning a submitted command buffer's outcome (a map, a validation error,
 * a lost device) into one result or one error.
 */
import { RuntimeError } from '../../errors.js';
import { deviceLostError, type DeviceLoss } from '../backend.js';
import type { DeviceHandle, DeviceWatch } from './device.js';
import { arenaBufferBytes, type KernelLimits } from './geometry.js';

/** Byte stride of the passes' uniforms in one uniform buffer (minUniformBufferOffsetAlignment is at most 256). */
export const UNIFORM_STRIDE = 256;
/** How long a run whose map was aborted waits for the device's lost promise, to name the reason. */
const LOSS_WAIT_MS = 250;

/** The kernel limits of `handle`'s device; with `arenaBytes`, a plan that binds its whole arena buffer (wholeArena). */
export function limitsOf(handle: DeviceHandle, arenaBytes?: number): KernelLimits {
  const l = handle.device.limits;
  const limits: KernelLimits = {
    cpu: handle.cpu,
    tile: handle.tile,
    ninTile: handle.ninTile,
    minStorageBufferOffsetAlignment: l.minStorageBufferOffsetAlignment,
    maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
    maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
    maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
  };
  if (arenaBytes !== undefined) limits.wholeArena = arenaBufferBytes(arenaBytes);
  return limits;
}

/**
 * Waits for the work a build submitted (or the device's loss), and rejects naming the loss `when`.
 * A lost device accepts every call and creates invalid objects silently: without this wait a build
 * would resolve to something dead.
 */
export async function awaitBuild(handle: DeviceHandle, watch: DeviceWatch, when: string): Promise<void> {
  if (watch.loss === null) await Promise.race([handle.device.queue.onSubmittedWorkDone().catch(() => undefined), watch.lost]);
  if (watch.loss !== null) throw deviceLostError(watch.loss, when);
}

/** Pops `count` error scopes (all of them) and throws `WebGPU <what> failed: ...` with the first error. */
export async function popScopes(device: GPUDevice, what: string, count: number): Promise<void> {
  const errors: (GPUError | null)[] = [];
  for (let i = 0; i < count; i++) errors.push(await device.popErrorScope());
  const first = errors.find((e) => e !== null);
  if (first) throw new RuntimeError(`WebGPU ${what} failed: ${first.message}`);
}

/** How settleSubmission names a failure. */
export interface SubmissionNames {
  /** The error when the owner was disposed while the work ran. */
  disposed: string;
  /** The prefix of a validation or map failure (`<failed>: <message>`). */
  failed: string;
}

/**
 * Waits for `done` (a buffer's map, or the queue's work) after a submit, then for the validation
 * scope the submit was made in (`validation`, called only when needed: not once a device loss made
 * the map fail). Resolves when both are clean; else unmaps `mapped` if it was mapped and throws: the
 * disposal, the device's loss (waiting a little for its lost promise: an aborted map can settle
 * first), or the validation or map error.
 */
export async function settleSubmission(
  watch: DeviceWatch,
  done: Promise<unknown>,
  validation: () => Promise<GPUError | null>,
  mapped: GPUBuffer | null,
  disposed: () => boolean,
  names: SubmissionNames,
): Promise<void> {
  const [settled] = await Promise.allSettled([done]);
  const error = settled.status === 'rejected' && watch.loss !== null ? null : await validation().catch(() => null);
  if (error === null && settled.status === 'fulfilled') return;
  if (settled.status === 'fulfilled' && mapped !== null) mapped.unmap();
  if (disposed()) throw new RuntimeError(names.disposed);
  const loss: DeviceLoss | null = watch.loss ?? (await Promise.race([watch.lost, new Promise<null>((r) => setTimeout(() => r(null), LOSS_WAIT_MS))]));
  if (loss !== null) throw deviceLostError(loss, 'during this run');
  throw new RuntimeError(`${names.failed}: ${error !== null ? error.message : String(settled.status === 'rejected' ? settled.reason : '')}`);
}
