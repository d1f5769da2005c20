/**
 * spawnWorker: inference off the calling thread, in a pool of workers (module Web Workers in
 * browsers, `worker_threads` in Node), each running its own compiled copy of the network
 * (inference_worker.ts). Runs go to the worker with the fewest runs in flight.
 */
import { NotImplementedError, RuntimeError, ValueError } from '../errors.js';
import { saveNpz } from '../io/npz.js';
import { Layer } from '../layers/base.js';
import { getAllParamValues } from '../layers/helper.js';
import { toJSON, type ModelJSON } from '../layers/json.js';
import { asNDArray, formatShape, type NDArray } from '../ndarray.js';
import type { CompileOptions } from '../compile/network.js';
import { checkOptions } from '../options.js';
import { hardwareThreads, workerClass, workersSupported, wrapWorker, type WorkerHandle } from '../threading.js';
import type { ErrorKind } from './inference_worker.js';

/** `compile`'s options (but `device`: a GPUDevice belongs to its thread) and the pool size. */
export interface SpawnWorkerOptions extends Omit<CompileOptions, 'device'> {
  /**
   * Workers in the pool (default 1, at most 64). Each compiles its own copy of the network; on WASM
   * each splits its batch over `threads` threads (default: the machine's threads / workers).
   */
  workers?: number;
}

/** A model file (`layers.toJSON`, or its JSON text) and its weights (`saveNpz` bytes). */
export interface WorkerModel {
  model: ModelJSON | string;
  /** `saveNpz(getAllParamValues(net))`; without it, the initializers of the model file make the values. */
  weights?: Uint8Array | ArrayBuffer;
}

export interface WorkerRunOptions {
  /**
   * Transfer the input's ArrayBuffer to the worker instead of copying it (default false): the
   * array is detached (empty) here afterwards. A SharedArrayBuffer is shared, never copied.
   */
  transfer?: boolean;
}

const SPAWN_OPTIONS = ['backend', 'batchSize', 'deterministic', 'threads', 'profile', 'winograd', 'workers'] as const;
const MAX_WORKERS = 64;

interface Ready {
  backend: 'webgpu' | 'wasm';
  device: string;
  inputs: number[][];
  outputs: number[][];
}

type Reply =
  | ({ type: 'ready' } & Ready)
  | { type: 'hello' }
  | { type: 'done'; id: number; outputs: NDArray[] }
  | { type: 'error'; id: number; error: { kind: ErrorKind; message: string } };

const ERRORS: Record<ErrorKind, new (message: string) => Error> = {
  ValueError, RuntimeError, NotImplementedError, TypeError, RangeError, Error,
};

/** The same class and message as the error raised in the worker. */
function rebuildError(e: { kind: ErrorKind; message: string }): Error {
  return new (ERRORS[e.kind] ?? Error)(e.message);
}

interface PendingRun {
  resolve(outputs: NDArray[]): void;
  reject(e: Error): void;
}

/** One worker of the pool: started, initialised (`ready`), its runs in flight. */
class Slot {
  readonly index: number;
  readonly handle: WorkerHandle;
  readonly ready: Promise<Ready>;
  readonly pending = new Map<number, PendingRun>();
  /** The worker failed (it is replaced, or the pool is being torn down). */
  dead = false;
  /** The worker answered `init` (ready or with an error). */
  started = false;
  /** The worker is ready for runs. */
  isReady = false;

  constructor(index: number, handle: WorkerHandle, init: object, onDeath: (slot: Slot, e: Error) => void) {
    this.index = index;
    this.handle = handle;
    this.ready = new Promise<Ready>((resolve, reject) => {
      handle.keepAlive(true);
      handle.onFailure((e) => {
        this.dead = true;
        this.isReady = false;
        if (!this.started) {
          reject(
            new RuntimeError(
              `spawnWorker: worker ${index} failed to start from ${handle.url}: ${e.message}. If a bundler built this app, ` +
                'it must emit that file (see the README, "Bundlers")',
            ),
          );
        }
        onDeath(this, e);
      });
      handle.onMessage((message) => {
        const reply = message as Reply;
        if (reply.type === 'hello') handle.post(init);
        else if (reply.type === 'ready') {
          this.started = true;
          this.isReady = true;
          this.#idle();
          resolve(reply);
        } else if (reply.type === 'error' && reply.id === -1) {
          // the model or options fail: this worker takes no runs
          this.started = true;
          this.dead = true;
          this.#idle();
          reject(rebuildError(reply.error));
        } else if (reply.type === 'done' || reply.type === 'error') {
          const run = this.pending.get(reply.id);
          if (run === undefined) return;
          this.pending.delete(reply.id);
          this.#idle();
          if (reply.type === 'done') run.resolve(reply.outputs);
          else run.reject(rebuildError(reply.error));
        }
      });
    });
    // a failed start is reported by spawnWorker (or by the run waiting on a replacement)
    this.ready.catch(() => undefined);
  }

  #idle(): void {
    if (this.pending.size === 0) this.handle.keepAlive(false);
  }

  /** Rejects every pending run with `error` and forgets them. */
  rejectAll(error: (count: number) => Error): void {
    const runs = [...this.pending.values()];
    this.pending.clear();
    for (const r of runs) r.reject(error(runs.length));
  }
}

/**
 * A network running in a pool of workers (see `spawnWorker`). `run` resolves to what
 * `network.run` would; `terminate()` stops every worker.
 */
export class WorkerNetwork<Output extends NDArray | NDArray[] = NDArray | NDArray[]> {
  /** The backend the workers run on (`'webgpu'` or `'wasm'`). */
  readonly backend: 'webgpu' | 'wasm';
  /** What the first worker runs on (adapter or threads). */
  readonly device: string;
  /** The input shapes the workers compiled for (in the order of the InputLayers). */
  readonly inputShapes: readonly (readonly number[])[];
  readonly #slots: Slot[];
  readonly #start: (index: number) => Slot;
  readonly #many: boolean;
  #nextId = 1;
  #terminated = false;

  /** @internal Use `spawnWorker()`. */
  constructor(slots: Slot[], ready: Ready, start: (index: number) => Slot, many: boolean) {
    this.#slots = slots;
    this.#start = start;
    this.#many = many;
    this.backend = ready.backend;
    this.device = ready.device;
    this.inputShapes = ready.inputs;
  }

  /** Workers in the pool. */
  get size(): number {
    return this.#slots.length;
  }

  /** @internal Runs in flight per worker (tests check the dispatch). */
  get loads(): number[] {
    return this.#slots.map((s) => s.pending.size);
  }

  /** @internal The platform's worker objects (tests kill one from outside). */
  get rawWorkers(): unknown[] {
    return this.#slots.map((s) => s.handle.raw);
  }

  /** @internal Called by a slot whose worker failed: reject its runs, start a replacement. */
  onDeath(slot: Slot, e: Error): void {
    if (this.#terminated || this.#slots[slot.index] !== slot) return;
    slot.rejectAll(
      (n) =>
        new RuntimeError(
          `spawnWorker: worker ${slot.index} died (${e.message}) with ${n} run${n === 1 ? '' : 's'} pending; ` +
            (slot.started ? 'they were rejected, and the pool has started a replacement worker' : 'they were rejected; it was a replacement that could not start, so it is not replaced again'),
        ),
    );
    slot.handle.terminate();
    // a replacement that could not start is not replaced again (its script or model fails)
    if (slot.started) this.#slots[slot.index] = this.#start(slot.index);
  }

  /**
   * Runs the network on `x` in the least busy worker. `x` is an NDArray, or an array of them in
   * the order of the network's InputLayers when it has several; shapes must equal the compiled
   * ones (ValueError). Resolves to the output NDArray (an array of them for a model with several
   * outputs). Errors raised in the worker arrive with their class and message.
   */
  run(x: NDArray | readonly NDArray[], options?: WorkerRunOptions): Promise<Output> {
    if (this.#terminated) return Promise.reject(new RuntimeError('this worker network was terminated; spawn a new one to run it'));
    let inputs: NDArray[];
    let transfer: ArrayBuffer[];
    try {
      const opts = checkOptions<WorkerRunOptions>(options, ['transfer'], 'worker.run');
      if (opts.transfer !== undefined && typeof opts.transfer !== 'boolean') {
        throw new TypeError(`worker.run option 'transfer' must be a boolean, but got ${String(opts.transfer)}`);
      }
      inputs = this.#checkInputs(x);
      transfer = opts.transfer === true ? [...new Set(inputs.flatMap((a) => (a.data.buffer instanceof ArrayBuffer ? [a.data.buffer] : [])))] : [];
      // a view of part of a larger buffer would clone the whole buffer: copy just the view
      if (opts.transfer !== true) inputs = inputs.map((a) => (a.data.byteLength === a.data.buffer.byteLength ? a : { data: a.data.slice(), shape: a.shape }));
    } catch (e) {
      return Promise.reject(e);
    }
    const live = this.#slots.filter((s) => !s.dead);
    if (live.length === 0) return Promise.reject(new RuntimeError('spawnWorker: every worker of the pool has failed; spawn a new one'));
    // least busy: fewest runs in flight (the lowest index on ties)
    const slot = live.reduce((best, s) => (s.pending.size < best.pending.size ? s : best));
    const id = this.#nextId++;
    return new Promise<NDArray[]>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      slot.handle.keepAlive(true);
      const message = (arrays: NDArray[]) => ({ type: 'run', id, inputs: arrays.map((a) => ({ data: a.data, shape: [...a.shape] })) });
      if (slot.isReady) {
        // posted now: the run uses the input as it is when run() is called
        slot.handle.post(message(inputs), transfer);
        return;
      }
      // a replacement is starting: take the input now (a copy, or the transferred buffer moved)
      // and post it once the worker is ready
      const moved = new Map<ArrayBuffer, ArrayBuffer>(transfer.map((b) => [b, structuredClone(b, { transfer: [b] })]));
      const held = inputs.map((a) => {
        const to = moved.get(a.data.buffer as ArrayBuffer);
        return { data: to ? new Float32Array(to, a.data.byteOffset, a.data.length) : a.data.slice(), shape: a.shape };
      });
      slot.ready.then(
        () => {
          if (slot.pending.has(id)) slot.handle.post(message(held), [...new Set(held.map((a) => a.data.buffer as ArrayBuffer))]);
        },
        (e: Error) => {
          slot.pending.delete(id);
          reject(new RuntimeError(`spawnWorker: the worker for this run could not be started: ${e.message}`));
        },
      );
    }).then((outs) => (this.#many ? outs : outs[0]) as Output);
  }

  #checkInputs(x: unknown): NDArray[] {
    const want = this.inputShapes;
    let given: unknown[];
    if (Array.isArray(x)) given = x;
    else {
      if (want.length !== 1) throw new ValueError(`worker.run: this network has ${want.length} InputLayers; pass an array of NDArrays in their order`);
      given = [x];
    }
    if (given.length !== want.length) throw new ValueError(`worker.run: this network has ${want.length} InputLayers, but ${given.length} arrays were given`);
    return given.map((g, i) => {
      const a = asNDArray(g, `worker.run input ${i}`);
      if (a.shape.length !== want[i].length || a.shape.some((d, j) => d !== want[i][j])) {
        throw new ValueError(`worker.run: input ${i} has shape ${formatShape(a.shape)} but the network was compiled for ${formatShape(want[i])}`);
      }
      return a;
    });
  }

  /** Stops every worker; pending runs reject with RuntimeError. Calling it again does nothing. */
  terminate(): void {
    if (this.#terminated) return;
    this.#terminated = true;
    for (const slot of this.#slots) {
      slot.rejectAll(() => new RuntimeError('spawnWorker: the worker network was terminated while this run was pending'));
      slot.handle.terminate();
    }
  }

  get terminated(): boolean {
    return this.#terminated;
  }
}

/**
 * Runs a network off the calling thread: in a module Web Worker (browsers) or a `worker_threads`
 * worker (Node), or a pool of them (`workers: N`, runs go to the least busy one). `source` is the
 * output layer (its architecture and current weights are sent) or `{ model, weights }` (a model
 * file from `layers.toJSON` and `saveNpz` bytes). Options are `compile`'s (but `device`) plus
 * `workers`. Resolves once every worker has compiled the network.
 *
 * ```ts
 * const worker = await spawnWorker(net, { batchSize: 1, workers: 2 });
 * const scores = await worker.run(ndarray(image, [1, 3, 32, 32]), { transfer: true });
 * worker.terminate();
 * ```
 *
 * @throws the errors `fromJSON` and `compile` raise in the worker (same classes and messages);
 *   RuntimeError when a worker cannot start (naming the script URL it tried).
 */
export function spawnWorker(source: Layer, options?: SpawnWorkerOptions): Promise<WorkerNetwork<NDArray>>;
export function spawnWorker(source: readonly Layer[], options?: SpawnWorkerOptions): Promise<WorkerNetwork<NDArray[]>>;
export function spawnWorker(source: Layer | readonly Layer[] | WorkerModel, options?: SpawnWorkerOptions): Promise<WorkerNetwork>;
export async function spawnWorker(source: Layer | readonly Layer[] | WorkerModel, options?: SpawnWorkerOptions): Promise<WorkerNetwork> {
  if (options !== null && typeof options === 'object' && 'device' in options) {
    throw new TypeError("spawnWorker cannot take option 'device': a GPUDevice belongs to the thread that created it (each worker makes its own)");
  }
  const opts = checkOptions<SpawnWorkerOptions>(options, SPAWN_OPTIONS, 'spawnWorker');
  const { workers = 1, ...compileOptions } = opts;
  if (typeof workers !== 'number' || !Number.isInteger(workers) || workers < 1 || workers > MAX_WORKERS) {
    throw new ValueError(`spawnWorker option 'workers' must be an integer from 1 to ${MAX_WORKERS}, but workers=${String(workers)}`);
  }
  let model: ModelJSON | string;
  let weights: Uint8Array | undefined;
  let many: boolean;
  if (source instanceof Layer || Array.isArray(source)) {
    model = toJSON(source as Layer | Layer[]);
    weights = saveNpz(getAllParamValues(source as Layer | Layer[]));
    many = Array.isArray(source);
  } else if (source !== null && typeof source === 'object') {
    const s = checkOptions<WorkerModel>(source, ['model', 'weights'], 'spawnWorker source');
    if (s.model === undefined) throw new TypeError('spawnWorker: the source object needs a model (from layers.toJSON)');
    model = s.model;
    if (s.weights !== undefined && !(s.weights instanceof Uint8Array) && !(s.weights instanceof ArrayBuffer)) {
      throw new TypeError(`spawnWorker: weights must be saveNpz bytes (a Uint8Array or an ArrayBuffer), but got ${typeof s.weights}`);
    }
    weights = s.weights instanceof ArrayBuffer ? new Uint8Array(s.weights) : s.weights;
    const parsed = typeof model === 'string' ? (JSON.parse(model) as ModelJSON | null) : model;
    many = parsed !== null && typeof parsed === 'object' && Array.isArray(parsed.outputs);
  } else {
    throw new TypeError(`spawnWorker: expected a Layer, an array of Layers, or { model, weights }, but got ${source === null ? 'null' : typeof source}`);
  }
  if (workers > 1 && compileOptions.threads === undefined) {
    // the machine's threads shared between the workers' WASM thread pools
    compileOptions.threads = Math.max(1, Math.floor((await hardwareThreads()) / workers));
  }
  const init = { type: 'init', model, weights, options: compileOptions };
  if (!workersSupported()) throw new RuntimeError('spawnWorker needs Web Workers, which this environment does not have; use compile() to run on this thread');
  const Worker = await workerClass();
  let pool: WorkerNetwork | null = null;
  const start = (i: number): Slot =>
    new Slot(
      i,
      // one statement, so that bundlers find, emit and rewrite the worker script
      wrapWorker(new Worker(new URL('./inference_worker.js', import.meta.url), { type: 'module' })),
      init,
      (slot, e) => pool?.onDeath(slot, e),
    );
  const slots = Array.from({ length: workers }, (_, i) => start(i));
  let first: Ready;
  try {
    [first] = await Promise.all(slots.map((s) => s.ready));
  } catch (e) {
    for (const s of slots) s.handle.terminate();
    throw e;
  }
  pool = new WorkerNetwork(slots, first, start, many);
  return pool;
}
