/**
 * Worker threads for the WASM backend: each worker (worker.ts) runs the whole step list on its own
 * sub-batch with its own kernels instance, so threads never share memory or synchronise inside a
 * run. Node uses `worker_threads`, browsers module Workers (`new Worker(new URL('./worker.js',
 * import.meta.url), { type: 'module' })`, the form bundlers recognise).
 */
import { RuntimeError } from '../../errors.js';
import type { ExecPlan, SharedIO } from './layout.js';

interface Reply {
  type: 'hello' | 'ready' | 'done' | 'error';
  id?: number;
  message?: string;
  outputs?: Float32Array[];
  times?: Float64Array;
}

/** The part of a Node Worker or a browser Worker the pool uses. */
interface WorkerHandle {
  post(message: unknown, transfer?: ArrayBuffer[]): void;
  onMessage(handler: (reply: Reply) => void): void;
  onFailure(handler: (error: Error) => void): void;
  /** Node: whether the worker keeps the process alive (only while a run is pending). */
  keepAlive(on: boolean): void;
  terminate(): void;
}

type NodeProcess = { versions?: { node?: string } };
const isNode = (): boolean => typeof (globalThis as { process?: NodeProcess }).process?.versions?.node === 'string';

// The module specifiers are variables so that bundlers for the browser do not try to resolve them.
async function nodeImport<T>(spec: string): Promise<T> {
  return (await import(/* @vite-ignore */ spec)) as T;
}

/**
 * Whether workers can share memory with this thread: always in Node; in browsers only on
 * cross-origin-isolated pages (COOP + COEP headers), where SharedArrayBuffer exists.
 */
export function sharedMemorySupported(): boolean {
  if (typeof SharedArrayBuffer !== 'function') return false;
  return isNode() || (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
}

/** Whether this environment can start worker threads. */
export function workersSupported(): boolean {
  return isNode() || typeof (globalThis as { Worker?: unknown }).Worker === 'function';
}

/** Logical processors here (Node: os.availableParallelism(); browsers: navigator.hardwareConcurrency). */
export async function hardwareThreads(): Promise<number> {
  if (isNode()) {
    const os = await nodeImport<{ availableParallelism?: () => number; cpus: () => unknown[] }>('node:os');
    return Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
  }
  const n = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  return typeof n === 'number' && n >= 1 ? n : 1;
}

/**
 * Delivers a worker's messages and failures to handlers set later: a worker can speak (its
 * `hello`) before the pool has attached its handlers, and an event with no listener is lost.
 */
class Mailbox<T> {
  #handler: ((x: T) => void) | null = null;
  #queue: T[] = [];
  deliver(x: T): void {
    if (this.#handler) this.#handler(x);
    else this.#queue.push(x);
  }
  set(handler: (x: T) => void): void {
    this.#handler = handler;
    for (const x of this.#queue.splice(0)) handler(x);
  }
}

async function spawn(): Promise<WorkerHandle> {
  const url = new URL('./worker.js', import.meta.url);
  const messages = new Mailbox<Reply>();
  const failures = new Mailbox<Error>();
  if (isNode()) {
    type NodeWorker = {
      postMessage(m: unknown, t?: ArrayBuffer[]): void;
      on(event: string, h: (x: never) => void): void;
      ref(): void;
      unref(): void;
      terminate(): Promise<number>;
    };
    const { Worker } = await nodeImport<{ Worker: new (url: URL, options: { execArgv: string[] }) => NodeWorker }>('node:worker_threads');
    // Workers inherit the parent's execArgv by default; options such as --input-type (node -e) or
    // --eval are refused in a worker, so none are passed on.
    const w = new Worker(url, { execArgv: [] });
    // listen before anything else runs: the worker may answer before the pool is ready
    w.on('message', ((m: Reply) => messages.deliver(m)) as (x: never) => void);
    w.on('error', ((e: Error) => failures.deliver(e)) as (x: never) => void);
    w.on('exit', ((code: number) => failures.deliver(new Error(`the worker exited with code ${code}`))) as (x: never) => void);
    w.unref();
    return {
      post: (m, t) => w.postMessage(m, t),
      onMessage: (h) => messages.set(h),
      onFailure: (h) => failures.set(h),
      keepAlive: (on) => (on ? w.ref() : w.unref()),
      terminate: () => void w.terminate(),
    };
  }
  const w = new Worker(url, { type: 'module' });
  w.addEventListener('message', (e: MessageEvent<Reply>) => messages.deliver(e.data));
  w.addEventListener('error', (e: ErrorEvent) => failures.deliver(new Error(e.message || 'the worker failed to start')));
  return {
    post: (m, t) => w.postMessage(m, t ?? []),
    onMessage: (h) => messages.set(h),
    onFailure: (h) => failures.set(h),
    keepAlive: () => undefined,
    terminate: () => w.terminate(),
  };
}

interface PendingRun {
  remaining: number;
  outputs: Float32Array[][];
  times: Float64Array[];
  resolve(result: { outputs: Float32Array[][]; times: Float64Array[] }): void;
  reject(error: Error): void;
}

/** One worker per sub-batch plan. */
export class WorkerPool {
  readonly #workers: WorkerHandle[];
  readonly #pending = new Map<number, PendingRun>();
  #nextId = 1;
  #failed: Error | null = null;
  #terminated = false;

  private constructor(workers: WorkerHandle[]) {
    this.#workers = workers;
  }

  /**
   * Starts one worker per plan and initialises each with its plan (and, for shared-memory runs,
   * its SharedIO); rejects if any fails.
   */
  static async create(module: WebAssembly.Module, plans: readonly ExecPlan[], shared?: readonly SharedIO[]): Promise<WorkerPool> {
    const workers = await Promise.all(plans.map(() => spawn()));
    const pool = new WorkerPool(workers);
    try {
      await Promise.all(
        workers.map(
          (w, i) =>
            new Promise<void>((resolve, reject) => {
              w.keepAlive(true);
              w.onFailure((e) => {
                reject(e);
                pool.#fail(e);
              });
              w.onMessage((reply) => {
                if (reply.type === 'hello') w.post({ type: 'init', module, plan: plans[i], shared: shared?.[i] });
                else if (reply.type === 'ready') {
                  w.keepAlive(false);
                  resolve();
                } else if (reply.type === 'error' && reply.id === -1) reject(new RuntimeError(`wasm backend worker ${i}: ${reply.message}`));
                else pool.#onReply(i, reply);
              });
            }),
        ),
      );
    } catch (e) {
      pool.terminate();
      throw e instanceof RuntimeError ? e : new RuntimeError(`wasm backend: a worker thread failed to start: ${(e as Error).message}`);
    }
    return pool;
  }

  get size(): number {
    return this.#workers.length;
  }

  #onReply(worker: number, reply: Reply): void {
    const run = this.#pending.get(reply.id ?? -1);
    if (reply.type === 'error') {
      const e = new RuntimeError(`wasm backend worker ${worker}: ${reply.message}`);
      if (run) {
        this.#pending.delete(reply.id as number);
        this.#idleCheck();
        run.reject(e);
      } else this.#fail(e);
      return;
    }
    if (reply.type !== 'done' || !run) return;
    run.outputs[worker] = reply.outputs as Float32Array[];
    run.times[worker] = reply.times as Float64Array;
    if (--run.remaining === 0) {
      this.#pending.delete(reply.id as number);
      this.#idleCheck();
      run.resolve({ outputs: run.outputs, times: run.times });
    }
  }

  #fail(e: Error): void {
    if (this.#terminated) return;
    this.#failed = e;
    for (const run of this.#pending.values()) run.reject(new RuntimeError(`wasm backend: a worker thread failed: ${e.message}`));
    this.#pending.clear();
    this.#idleCheck();
  }

  #idleCheck(): void {
    if (this.#pending.size === 0) for (const w of this.#workers) w.keepAlive(false);
  }

  /** Sends a slot's kernel-form data to every worker (each gets a copy). */
  writeSlot(slot: number, data: Float32Array): void {
    for (const w of this.#workers) w.post({ type: 'slot', slot, data });
  }

  /**
   * Runs worker i on parts[i] (its inputs, transferred), or with `null` on what the shared input
   * buffers hold; resolves with every worker's outputs (empty with shared buffers) and step times.
   */
  run(parts: Float32Array[][] | null): Promise<{ outputs: Float32Array[][]; times: Float64Array[] }> {
    if (this.#failed) return Promise.reject(new RuntimeError(`wasm backend: a worker thread failed earlier: ${this.#failed.message}`));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { remaining: this.#workers.length, outputs: [], times: [], resolve, reject });
      this.#workers.forEach((w, i) => {
        w.keepAlive(true);
        if (parts === null) w.post({ type: 'run', id });
        else w.post({ type: 'run', id, inputs: parts[i] }, parts[i].map((x) => x.buffer as ArrayBuffer));
      });
    });
  }

  terminate(): void {
    if (this.#terminated) return;
    this.#terminated = true;
    for (const run of this.#pending.values()) run.reject(new RuntimeError('wasm backend: the network was disposed during a run'));
    this.#pending.clear();
    for (const w of this.#workers) w.terminate();
  }
}
