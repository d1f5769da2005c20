/**
 * compile() and Network: the counterpart of `theano.function([input], get_output(net))`.
 */
import { RuntimeError, ValueError } from '../errors.js';
import { asNDArray, formatShape, type NDArray } from '../ndarray.js';
import { checkOptions } from '../options.js';
import { Layer, isInputLayer } from '../layers/base.js';
import type { InputLayer } from '../layers/input.js';
import { getAllLayers, getAllParams } from '../layers/helper.js';
import { planWithScratch, type NetworkPlan, type PlanOptions } from './plan.js';
import { isDeviceLost, type Backend, type BackendName, type BackendOptions, type PreparedNetwork, type StepTiming, type WebGpuDevice } from '../backend/backend.js';
import { pickBackend, skippedNote, type BackendChoice } from '../backend/select.js';
import { releaseDeviceMemory, trackDeviceMemory } from './memory.js';

export interface CompileOptions {
  /** 'auto' (default): WebGPU when an adapter exists, else WASM. */
  backend?: BackendChoice;
  /** Fixes a null batch dimension of the inputs (required when it is null). */
  batchSize?: number;
  /** WebGPU: an existing GPUDevice to run on (the caller keeps ownership). */
  device?: WebGpuDevice;
  /** Inference is deterministic (default true); these layers have no stochastic behaviour. */
  deterministic?: boolean;
  /** WASM: worker threads to split the batch over (default: what the machine has, at most the batch size). */
  threads?: number;
  /**
   * Per-layer device times for profile() (default true). WebGPU times the first run and every 16th
   * after it (a timed run encodes one compute pass per layer step and writes timestamps: on an H100
   * about 0.15 ms more for the CIFAR-10 network at batch 128). false never times, and profile()
   * returns null on every backend.
   */
  profile?: boolean;
  /**
   * WebGPU: 3x3 stride-1 convolutions of at least 64 channels and 64 filters run as Winograd
   * F(4x4, 3x3) or F(2x2, 3x3) where the layer and its scratch fit one storage binding (default
   * true; on an H200 L5 of the benchmarks 2.7x faster than direct). The scratch is about four times
   * the layer's input and output, in the plan's arenaBytes. false keeps the direct kernel and the
   * smaller arena. Ignored on WASM.
   */
  winograd?: boolean;
}

const COMPILE_OPTIONS = ['backend', 'batchSize', 'device', 'deterministic', 'threads', 'profile', 'winograd'] as const;

export interface LayerTiming {
  layer: string;
  /** Milliseconds of device (or CPU) time in the last run, summed over the layer's kernel steps. */
  ms: number;
  steps: StepTiming[];
}

/**
 * A compiled network: its plan, its backend, and `run()`. Repeated runs reuse every buffer and
 * pipeline. Calling run() again before the previous one settles is safe: on WebGPU up to three runs
 * are in flight together (the next one's upload and submission overlap this one's GPU work), on WASM
 * they run one after another. Each run uses its input arrays as they are when run() is called.
 */
export class Network<Output extends NDArray | NDArray[] = NDArray | NDArray[]> {
  /** The plan this network runs (deeply frozen). */
  readonly plan: NetworkPlan;
  readonly backend: BackendName;
  /** The InputLayers, in plan.inputs order. */
  readonly inputLayers: readonly InputLayer[];
  /**
   * What the backend runs on: the WebGPU adapter (vendor, architecture, device, driver) or the WASM
   * threads; with 'auto' on WASM it also names a software WebGPU adapter that was skipped.
   */
  readonly device: string;
  readonly #prepared: PreparedNetwork;
  readonly #many: boolean;
  /** compile's `profile` option. */
  readonly #profiled: boolean;
  #disposed = false;

  /** @internal Use `compile()`. */
  constructor(plan: NetworkPlan, backend: BackendName, prepared: PreparedNetwork, inputLayers: InputLayer[], many: boolean, profiled = true, note = '') {
    this.plan = plan;
    this.#profiled = profiled;
    this.backend = backend;
    this.#prepared = prepared;
    this.inputLayers = Object.freeze([...inputLayers]);
    this.#many = many;
    this.device = prepared.description + note;
    trackDeviceMemory(this, () => (this.#disposed ? 0 : (prepared.deviceBytes ?? 0)), backend, 'network');
  }

  /**
   * Runs the network. `input` is an NDArray (a network with one InputLayer) or a Map from each
   * InputLayer to its NDArray; shapes must equal the compiled input shapes exactly, data must be a
   * Float32Array (ValueError otherwise, before anything is queued). Resolves to the output NDArray,
   * or an array of them when compile() was given an array of layers.
   *
   * The run uses its input and the parameter values as they are when `run` is called, even when it
   * waits for earlier runs. Data on a SharedArrayBuffer or a resizable ArrayBuffer is copied first.
   * If the WebGPU device is lost, the run rejects with a RuntimeError naming the reason; compile
   * again (parameter values are kept).
   */
  run(input: NDArray | Map<InputLayer, NDArray>): Promise<Output> {
    if (this.#disposed) return Promise.reject(new RuntimeError('this network was disposed; compile it again to run it'));
    let arrays: Float32Array[];
    try {
      arrays = this.#checkInputs(input);
    } catch (e) {
      return Promise.reject(e);
    }
    // (the backend orders concurrent runs: WebGPU keeps several in flight, WASM runs one at a time)
    return this.#prepared.run(arrays).then((outs) => {
      const nd = outs.map((data, i) => ({ data, shape: [...this.plan.tensors[this.plan.outputs[i]].shape] }));
      return (this.#many ? nd : nd[0]) as Output;
    });
  }

  #checkInputs(input: unknown): Float32Array[] {
    const given = new Map<InputLayer, unknown>();
    if (input instanceof Map) {
      for (const [k, v] of input) {
        if (!this.inputLayers.includes(k)) {
          throw new ValueError(`run: the input Map has a key that is not an InputLayer of this network (${k instanceof Layer ? k.constructor.name : typeof k})`);
        }
        given.set(k, v);
      }
    } else {
      if (this.inputLayers.length !== 1) {
        throw new ValueError(`run: this network has ${this.inputLayers.length} InputLayers; pass a Map from each InputLayer to its NDArray`);
      }
      given.set(this.inputLayers[0], input);
    }
    return this.inputLayers.map((layer, i) => {
      const name = layer.name !== null ? `input '${layer.name}'` : 'input';
      if (!given.has(layer)) throw new ValueError(`run: no value given for ${name}`);
      const a = asNDArray(given.get(layer), `run ${name}`);
      const want = this.plan.tensors[this.plan.inputs[i]].shape;
      if (a.shape.length !== want.length || a.shape.some((d, j) => d !== want[j])) {
        throw new ValueError(`run: ${name} has shape ${formatShape(a.shape)} but the network was compiled for ${formatShape(want)}`);
      }
      return a.data;
    });
  }

  /**
   * Per-layer device times of the latest timed run (WASM: the last run; WebGPU: the first run and
   * every 16th after it), where the backend can measure them; null otherwise, and with compile's
   * `profile: false`.
   */
  profile(): LayerTiming[] | null {
    if (this.#disposed) throw new RuntimeError('this network was disposed');
    const steps = this.#profiled ? this.#prepared.profile() : null;
    if (steps === null) return null;
    const byLayer = new Map<string, LayerTiming>();
    for (const s of steps) {
      const t = byLayer.get(s.layer) ?? { layer: s.layer, ms: 0, steps: [] };
      t.ms += s.ms;
      t.steps.push(s);
      byLayer.set(s.layer, t);
    }
    return [...byLayer.values()];
  }

  /** Frees every device resource. Using the network afterwards raises RuntimeError. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#prepared.dispose();
    releaseDeviceMemory(this);
  }

  get disposed(): boolean {
    return this.#disposed;
  }
}

/**
 * Compiles a network for running: plans it (shapes, kernel steps, arena), picks the backend and
 * prepares every buffer and pipeline.
 *
 * A lost GPU device (the `device` option's, or the default one) is a RuntimeError naming the
 * reason with `backend: 'webgpu'`; with `'auto'` compile uses a new default device instead, or WASM
 * when there is no adapter left. A lost default device is replaced on the next compile.
 *
 * ```ts
 * const network = await compile(net, { batchSize: 32 });          // WebGPU if there is an adapter, else WASM
 * const scores = await network.run(ndarray(images, [32, 3, 32, 32]));
 * ```
 */
export function compile(outputLayer: Layer, options?: CompileOptions): Promise<Network<NDArray>>;
export function compile(outputLayer: readonly Layer[], options?: CompileOptions): Promise<Network<NDArray[]>>;
export function compile(outputLayer: Layer | readonly Layer[], options?: CompileOptions): Promise<Network>;
export async function compile(outputLayer: Layer | readonly Layer[], options?: CompileOptions): Promise<Network> {
  const opts = checkOptions<CompileOptions>(options, COMPILE_OPTIONS, 'compile');
  return compileWith(outputLayer, opts, opts.batchSize === undefined ? {} : { batchSize: opts.batchSize });
}

async function compileWith(outputLayer: Layer | readonly Layer[], opts: Partial<CompileOptions>, planOptions: PlanOptions): Promise<Network> {
  if (opts.deterministic !== undefined && typeof opts.deterministic !== 'boolean') {
    throw new TypeError(`compile option 'deterministic' must be a boolean, but got ${String(opts.deterministic)}`);
  }
  if (opts.winograd !== undefined && typeof opts.winograd !== 'boolean') {
    throw new TypeError(`compile option 'winograd' must be a boolean, but got ${String(opts.winograd)}`);
  }
  if (opts.profile !== undefined && typeof opts.profile !== 'boolean') {
    throw new TypeError(`compile option 'profile' must be a boolean, but got ${String(opts.profile)}`);
  }
  if (opts.threads !== undefined && (!Number.isInteger(opts.threads) || opts.threads < 1)) {
    throw new ValueError(`compile option 'threads' must be a positive integer, but got ${String(opts.threads)}`);
  }
  const many = Array.isArray(outputLayer);
  const outputs = many ? [...(outputLayer as Layer[])] : [outputLayer as Layer];
  outputs.forEach((l, i) => {
    if (!(l instanceof Layer)) throw new TypeError(`compile: expected a Layer or an array of Layers, but item ${i} is ${typeof l}`);
  });
  const bare = planWithScratch(outputs, planOptions, [], 'compile');
  const params = getAllParams(outputs);
  /** Plans the backend's scratch and prepares the network on the backend. */
  const prepareOn = async (backend: Backend, backendOptions: BackendOptions) => {
    // the backend's scratch joins the arena before offsets are fixed: arenaBytes is every byte it uses
    const scratch = await backend.scratchBytes(bare.steps, backendOptions);
    const plan = scratch.some((b) => b > 0) ? planWithScratch(outputs, planOptions, scratch, 'compile') : bare;
    return { backend, plan, prepared: await backend.prepare(plan, params, backendOptions) };
  };
  const choice = opts.backend ?? 'auto';
  const common = { threads: opts.threads, profile: opts.profile, winograd: opts.winograd };
  let ready: { backend: Backend; plan: NetworkPlan; prepared: PreparedNetwork };
  let note = '';
  try {
    const picked = await pickBackend(choice, opts.device !== undefined);
    note = skippedNote(picked.skipped);
    ready = await prepareOn(picked.backend, { device: opts.device, ...common });
  } catch (e) {
    // 'auto' on a lost device: the default device (a new one), else WASM. Parameters live in
    // their Params, so nothing is lost with the device.
    if (choice !== 'auto' || !isDeviceLost(e)) throw e;
    try {
      const picked = await pickBackend('auto', false);
      note = skippedNote(picked.skipped);
      ready = await prepareOn(picked.backend, common);
    } catch (again) {
      if (!isDeviceLost(again)) throw again;
      note = '';
      ready = await prepareOn((await pickBackend('wasm', false)).backend, common);
    }
  }
  const { backend, plan, prepared } = ready;
  // plan.inputs lists the InputLayers in getAllLayers order.
  const inputs = getAllLayers(outputs).filter(isInputLayer) as InputLayer[];
  return new Network(plan, backend.name, prepared, inputs, many, opts.profile !== false, note);
}

export interface GetOutputOptions {
  backend?: BackendChoice;
  device?: WebGpuDevice;
  threads?: number;
}

/** A network getOutput compiled for one layer and one set of input shapes, and its calls in progress. */
interface CachedNetwork {
  network: Promise<Network>;
  /** getOutput calls using it that have not settled: it is never disposed while this is above 0. */
  calls: number;
  /** Its device was lost: out of the cache, disposed when its last call settles. */
  lost?: boolean; // (also set by clearOutputCache: disposed when its last call settles)
}

/**
 * Networks getOutput keeps per layer, by input shapes and options (insertion order is use order):
 * at most this many; the least recently used idle one beyond it is disposed.
 */
const OUTPUT_CACHE_SIZE = 4;
const outputCache = new WeakMap<Layer, Map<string, CachedNetwork>>();
/** Every layer's cache, held weakly, so that clearOutputCache() can reach them all. */
const allCaches = new Set<WeakRef<Map<string, CachedNetwork>>>();
const cacheCollected = new FinalizationRegistry<WeakRef<Map<string, CachedNetwork>>>((ref) => allCaches.delete(ref));

/** Disposes `entry`'s network now, or when its last call settles if one is running. */
function release(entry: CachedNetwork): void {
  entry.lost = true;
  if (entry.calls === 0) void entry.network.then((n) => n.dispose(), () => undefined);
}

/** Empties one layer's cache; returns how many networks it released. */
function clearCache(cache: Map<string, CachedNetwork>): number {
  const n = cache.size;
  for (const entry of cache.values()) release(entry);
  cache.clear();
  return n;
}

/**
 * Releases the networks `getOutput` compiled and cached: for `layer` only, or for every layer when
 * none is given. Each is disposed (its device memory freed, see `lasagne.memory()`) as soon as no
 * getOutput call is using it; the next getOutput compiles again. Returns the number of networks
 * released.
 *
 * ```ts
 * await layers.getOutput(conv, x);
 * layers.clearOutputCache();        // frees the network getOutput kept for conv
 * ```
 */
export function clearOutputCache(layer?: Layer): number {
  if (layer !== undefined) {
    if (!(layer instanceof Layer)) throw new TypeError(`clearOutputCache: expected a Layer or nothing, but got ${layer === null ? 'null' : typeof layer}`);
    const cache = outputCache.get(layer);
    return cache === undefined ? 0 : clearCache(cache);
  }
  let n = 0;
  for (const ref of allCaches) {
    const cache = ref.deref();
    if (cache === undefined) allCaches.delete(ref);
    else n += clearCache(cache);
  }
  return n;
}

/** Disposes least recently used networks of `cache` beyond OUTPUT_CACHE_SIZE, never one in use. */
function trimOutputCache(cache: Map<string, CachedNetwork>): void {
  for (const [key, entry] of cache) {
    if (cache.size <= OUTPUT_CACHE_SIZE) return;
    if (entry.calls > 0) continue;
    cache.delete(key);
    void entry.network.then((n) => n.dispose(), () => undefined);
  }
}

/**
 * The output of `layer` for `input` (Lasagne's `get_output(layer, inputs).eval()`): compiles the
 * network for these input shapes on first use and caches it per layer and input shapes (the four
 * most recently used), so repeated calls with the same shapes reuse it. Calls with different shapes
 * may run at once: a cached network is disposed only when no call uses it. `input` is an NDArray
 * (one InputLayer) or a Map from InputLayer to NDArray.
 *
 * ```ts
 * const y = await layers.getOutput(conv, ndarray(x, [8, 3, 32, 32]));
 * ```
 */
export async function getOutput(layer: Layer, input: NDArray | Map<InputLayer, NDArray>, options?: GetOutputOptions): Promise<NDArray> {
  const opts = checkOptions<GetOutputOptions>(options, ['backend', 'device', 'threads'], 'getOutput');
  if (!(layer instanceof Layer)) throw new TypeError(`getOutput: expected a Layer, but got ${typeof layer}`);
  const inputs = getAllLayers(layer).filter(isInputLayer) as InputLayer[];
  const given = input instanceof Map ? input : new Map([[inputs[0], input]]);
  if (!(input instanceof Map) && inputs.length !== 1) {
    throw new ValueError(`getOutput: the network has ${inputs.length} InputLayers; pass a Map from each InputLayer to its NDArray`);
  }
  const shapes = new Map<InputLayer, number[]>();
  for (const l of inputs) {
    if (!given.has(l)) throw new ValueError(`getOutput: no value given for ${l.name !== null ? `input '${l.name}'` : 'an InputLayer'}`);
    const a = asNDArray(given.get(l), 'getOutput input');
    if (a.shape.length !== l.shape.length || l.shape.some((d, i) => d !== null && d !== a.shape[i])) {
      throw new ValueError(`getOutput: input has shape ${formatShape(a.shape)} but the InputLayer's shape is ${formatShape(l.shape)}`);
    }
    shapes.set(l, a.shape);
  }
  const key = JSON.stringify([opts.backend ?? 'auto', opts.threads ?? null, [...shapes.values()]]);
  let cache = outputCache.get(layer);
  if (cache === undefined) {
    cache = new Map();
    outputCache.set(layer, cache);
    const ref = new WeakRef(cache);
    allCaches.add(ref);
    cacheCollected.register(cache, ref);
  }
  const cached = cache;
  let entry = cached.get(key);
  if (entry !== undefined) {
    cached.delete(key); // re-inserted below: most recently used last
  } else {
    const network = compileWith(layer, opts, { inputShapes: shapes as Map<InputLayer, (number | null)[]> });
    entry = { network, calls: 0 };
    const made = entry;
    network.catch(() => cached.get(key) === made && cached.delete(key));
  }
  cached.set(key, entry);
  // Counted before the first await: trimming (here or in a concurrent call) never disposes it.
  entry.calls++;
  try {
    trimOutputCache(cached);
    return (await (await entry.network).run(given)) as NDArray;
  } catch (e) {
    // the next call compiles again (a new device, or another backend with 'auto')
    if (isDeviceLost(e)) {
      entry.lost = true;
      if (cached.get(key) === entry) cached.delete(key);
    }
    throw e;
  } finally {
    entry.calls--;
    if (entry.lost && entry.calls === 0) void entry.network.then((n) => n.dispose(), () => undefined);
    trimOutputCache(cached);
  }
}
