/**
 * One instance of build/kernels.wasm running one ExecPlan, on whichever thread owns it (the caller
 * with threads = 1, else one per worker). Its memory holds, reserved once from a fresh instance:
 * the planner's arena (tensors at the plan's offsets, each filter_acts step's scratch among them) and
 * every parameter slot in kernel form. `run` is synchronous.
 */
import { RuntimeError, ValueError } from '../../errors.js';
import { shapeSize } from '../../ndarray.js';
import type { KernelStep } from '../../ops/steps.js';
import type { KernelsExports } from './kernels_abi.js';
import { KERNELS_RELAXED_WASM_BASE64, KERNELS_RELAXED_WASM_BYTES, KERNELS_WASM_BASE64, KERNELS_WASM_BYTES } from './kernels_bytes.generated.js';
import type { ExecPlan } from './layout.js';
import { forwardOp } from './ops/index.js';
import type { DropoutPlacement, ForwardAddresses } from './ops/op.js';

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(new ArrayBuffer(binary.length));
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * In Node the module is compiled and instantiated synchronously (26 KB: about a millisecond).
 * Awaiting the asynchronous API there leaves the event loop with no active handle, so Node enters
 * NodePlatform::DrainTasks, which can deadlock with a background compile job waiting for a
 * main-thread GC (nodejs/node#54918; seen here as a test run that hung forever). Browsers keep the
 * asynchronous API, which their main threads require.
 */
const syncWasm = typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string';

/**
 * Which build of the kernels runs: 'relaxed' (build/kernels_relaxed.wasm, whose hot loops' multiply-adds
 * are f32x4.relaxed_madd, fused where the machine has FMA) or 'plain' (build/kernels.wasm, WebAssembly
 * SIMD only). 'auto', the default, takes the relaxed one when this engine validates it (current
 * browsers; Node 20 only with --experimental-wasm-relaxed-simd) and the plain one otherwise.
 */
export type WasmSimd = 'auto' | 'relaxed' | 'plain';

const SIMD_CHOICES: readonly WasmSimd[] = ['auto', 'relaxed', 'plain'];
/** setWasmSimd's choice; null: the LASAGNE_WASM_SIMD environment variable (Node), else 'auto'. */
let chosen: WasmSimd | null = null;

/**
 * Chooses the kernels build for networks and trainers prepared from now on (those prepared before
 * keep theirs): 'auto' (default), 'relaxed' (an error at preparation where the engine lacks relaxed
 * SIMD) or 'plain'; null returns to the LASAGNE_WASM_SIMD environment variable (Node), else 'auto'.
 */
export function setWasmSimd(choice: WasmSimd | null): void {
  if (choice !== null && !SIMD_CHOICES.includes(choice)) {
    throw new ValueError(`setWasmSimd requires choice to be one of 'auto', 'relaxed', 'plain' or null, but got ${JSON.stringify(choice)}`);
  }
  chosen = choice;
}

/** The effective choice: setWasmSimd's, else LASAGNE_WASM_SIMD's (Node), else 'auto'. */
export function wasmSimdChoice(): WasmSimd {
  if (chosen !== null) return chosen;
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.LASAGNE_WASM_SIMD;
  if (env === undefined || env === '') return 'auto';
  if (!SIMD_CHOICES.includes(env as WasmSimd)) {
    throw new ValueError(`the environment variable LASAGNE_WASM_SIMD must be one of auto, relaxed, plain, but it is ${JSON.stringify(env)}`);
  }
  return env as WasmSimd;
}

const decoded: { plain?: Uint8Array<ArrayBuffer>; relaxed?: Uint8Array<ArrayBuffer> } = {};
const bytesOf = (build: 'plain' | 'relaxed'): Uint8Array<ArrayBuffer> =>
  (decoded[build] ??= decodeBase64(build === 'plain' ? KERNELS_WASM_BASE64 : KERNELS_RELAXED_WASM_BASE64));
let relaxedValid: boolean | null = null;

/** Whether this engine accepts the relaxed-SIMD kernels module (WebAssembly.validate, asked once). */
export function relaxedSimdSupported(): boolean {
  relaxedValid ??= KERNELS_RELAXED_WASM_BYTES > 0 && WebAssembly.validate(bytesOf('relaxed'));
  return relaxedValid;
}

/** The build the current choice runs on this engine; throws where 'relaxed' is forced and unsupported. */
export function kernelsBuild(): 'plain' | 'relaxed' {
  const choice = wasmSimdChoice();
  if (choice === 'plain') return 'plain';
  if (relaxedSimdSupported()) return 'relaxed';
  if (choice === 'relaxed') {
    throw new RuntimeError(
      'the relaxed-SIMD kernels were asked for (setWasmSimd or LASAGNE_WASM_SIMD=relaxed), but this engine does not validate them' +
        (KERNELS_RELAXED_WASM_BYTES === 0 ? ' (they were not built)' : '; Node 20 needs --experimental-wasm-relaxed-simd'),
    );
  }
  return 'plain';
}

const compiled: { plain?: Promise<WebAssembly.Module>; relaxed?: Promise<WebAssembly.Module> } = {};
const builds = new WeakMap<WebAssembly.Module, 'plain' | 'relaxed'>();

/**
 * The compiled kernels module of the chosen build (kernelsBuild; each compiled once per thread; a
 * WebAssembly.Module can be posted to workers, which run the module they are given). Rejects where
 * the module was not built, this engine lacks WebAssembly SIMD, or a forced relaxed build is unsupported.
 */
export function kernelsModule(): Promise<WebAssembly.Module> {
  if (KERNELS_WASM_BYTES === 0) {
    return Promise.reject(new RuntimeError("the WASM backend's kernels were not built: scripts/build_kernels.mjs needs Emscripten ('apt-get install emscripten')"));
  }
  let build: 'plain' | 'relaxed';
  try {
    build = kernelsBuild();
  } catch (e) {
    return Promise.reject(e);
  }
  const compile = (): Promise<WebAssembly.Module> => {
    const p = syncWasm ? Promise.resolve().then(() => new WebAssembly.Module(bytesOf(build))) : WebAssembly.compile(bytesOf(build));
    return p.then((m) => {
      builds.set(m, build);
      return m;
    });
  };
  const module = (compiled[build] ??= compile());
  return module;
}

/** The name of a kernels module's instruction set for descriptions: 'WebAssembly relaxed SIMD' or 'WebAssembly SIMD'. */
export function simdName(module: WebAssembly.Module): string {
  return builds.get(module) === 'relaxed' ? 'WebAssembly relaxed SIMD' : 'WebAssembly SIMD';
}


const queries = new WeakMap<WebAssembly.Module, Promise<KernelsExports>>();

/** An instance of the module for questions that need no arena (scratch sizes), one per module. */
export function queryInstance(module: WebAssembly.Module): Promise<KernelsExports> {
  let q = queries.get(module);
  if (q === undefined) {
    q = syncWasm
      ? Promise.resolve(new WebAssembly.Instance(module, {}).exports as unknown as KernelsExports)
      : WebAssembly.instantiate(module, {}).then((i) => i.exports as unknown as KernelsExports);
    queries.set(module, q);
  }
  return q;
}

/** Scratch bytes of one step as the C kernels ask for it (filter_acts: padded input copy and tap table). */
export function stepScratch(k: KernelsExports, s: KernelStep): number {
  return forwardOp(s.op)?.scratch?.(k, s) ?? 0;
}

/** A function giving each step's scratch bytes (0: none), from the kernels module itself. */
export async function scratchOf(module: WebAssembly.Module): Promise<(step: KernelStep) => number> {
  const k = await queryInstance(module);
  return (step) => stepScratch(k, step);
}

/**
 * The one call of a forward step (src/ops/steps.ts KernelStep, its op's descriptor in ops/), shared
 * by the inference engine and the training executor: a function of the run's dropout counter
 * returning the kernel's code.
 */
export function forwardCall(k: KernelsExports, s: KernelStep, at: ForwardAddresses, placement?: DropoutPlacement): (counter: number) => number {
  const d = forwardOp(s.op);
  if (d === undefined) throw new RuntimeError(`wasm backend: ${s.op} steps are not forward steps`);
  return d.call(k, s, at, placement);
}

export class Engine {
  readonly plan: ExecPlan;
  readonly #k: KernelsExports;
  readonly #tensorAddr: number[];
  readonly #slotAddr: number[];
  readonly #calls: (() => number)[];
  /** Milliseconds per step of the last run. */
  readonly times: Float64Array;
  /** Bytes of the arena reserved in the module's memory: the plan's arenaBytes, scratch included. */
  readonly arenaBytes: number;

  /** Instantiates the module and reserves every buffer of `plan`. */
  static async create(module: WebAssembly.Module, plan: ExecPlan): Promise<Engine> {
    const instance = syncWasm ? new WebAssembly.Instance(module, {}) : await WebAssembly.instantiate(module, {});
    return new Engine(instance.exports as unknown as KernelsExports, plan);
  }

  private constructor(k: KernelsExports, plan: ExecPlan) {
    this.plan = plan;
    this.#k = k;
    const reserve = (bytes: number, align: number, what: string): number => {
      const addr = bytes > 0xffff0000 ? 0 : k.kernels_reserve(Math.max(bytes, 16), align) >>> 0;
      if (addr === 0) {
        throw new RuntimeError(`wasm backend: cannot grow the module's memory for ${what} (${bytes} bytes; WebAssembly memory is limited to 4 GiB)`);
      }
      return addr;
    };
    const arena = reserve(plan.arenaBytes, plan.alignment, 'the arena');
    this.arenaBytes = plan.arenaBytes;
    this.#tensorAddr = plan.tensors.map((t) => arena + t.offset);
    this.#slotAddr = plan.slots.map((s, i) => reserve(4 * s.elements, 16, `parameter slot ${i}`));
    this.#calls = plan.steps.map((s, i) => {
      const need = stepScratch(k, s);
      const have = s.scratch === undefined ? 0 : plan.tensors[s.scratch].bytes;
      if (need > have) throw new RuntimeError(`wasm backend: step ${i} (${s.op} of ${s.layer}) needs ${need} bytes of scratch, but the plan gives it ${have}`);
      return this.#call(s, plan.stepSlots[i], need > 0 ? this.#tensorAddr[s.scratch as number] : 0);
    });
    this.times = new Float64Array(plan.steps.length);
  }

  #call(s: KernelStep, slots: { weight: number; bias: number }, scratch: number): () => number {
    const call = forwardCall(this.#k, s, {
      tensor: (id) => this.#tensorAddr[id],
      weight: slots.weight < 0 ? 0 : this.#slotAddr[slots.weight],
      bias: slots.bias < 0 ? 0 : this.#slotAddr[slots.bias],
      scratch,
    });
    return () => call(0);
  }

  /** Copies a slot's kernel-form data into the module. */
  writeSlot(slot: number, data: Float32Array): void {
    const s = this.plan.slots[slot];
    if (data.length !== s.elements) throw new RuntimeError(`wasm backend: parameter slot ${slot} takes ${s.elements} values, but got ${data.length}`);
    new Float32Array(this.#k.memory.buffer, this.#slotAddr[slot], s.elements).set(data);
  }

  /** A view of input i (plan.inputs order) in the module's memory; valid until the memory grows (it never does after construction). */
  inputView(i: number): Float32Array {
    const id = this.plan.inputs[i];
    return new Float32Array(this.#k.memory.buffer, this.#tensorAddr[id], shapeSize(this.plan.tensors[id].shape));
  }

  /** A view of output o (plan.outputs order) in the module's memory. */
  outputView(o: number): Float32Array {
    const id = this.plan.outputs[o];
    return new Float32Array(this.#k.memory.buffer, this.#tensorAddr[id], shapeSize(this.plan.tensors[id].shape));
  }

  /** Runs every step on what the input views hold, timing each. */
  execute(): void {
    for (let i = 0; i < this.#calls.length; i++) {
      const t0 = performance.now();
      const rc = this.#calls[i]();
      this.times[i] = performance.now() - t0;
      if (rc !== 0) {
        const s = this.plan.steps[i];
        throw new RuntimeError(`wasm backend: the ${s.op} kernel rejected the sizes of step ${i} (${s.layer}), code ${rc}`);
      }
    }
  }

  /** Runs every step on `inputs` (plan.inputs order) and returns fresh copies of the outputs. */
  run(inputs: readonly Float32Array[]): Float32Array[] {
    const plan = this.plan;
    if (inputs.length !== plan.inputs.length) throw new ValueError(`run needs ${plan.inputs.length} input arrays, but got ${inputs.length}`);
    inputs.forEach((x, i) => {
      const view = this.inputView(i);
      if (!(x instanceof Float32Array) || x.length !== view.length) {
        throw new ValueError(`run input ${i} must be a Float32Array of ${view.length} values, but got ${x instanceof Float32Array ? x.length : typeof x}`);
      }
      view.set(x);
    });
    this.execute();
    return plan.outputs.map((_, o) => this.outputView(o).slice());
  }

  /** Bytes of the module's memory (for descriptions and tests). */
  get memoryBytes(): number {
    return this.#k.memory.buffer.byteLength;
  }
}
