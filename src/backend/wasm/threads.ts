/**
 * Worker threads for the WASM backend: each worker (worker.ts) runs the whole step list on its own
 * sub-batch with its own kernels instance, so threads never share memory or synchronise inside a
 * run. Node uses `worker_threads`, browsers module Workers, both created in the one statement
 * bundlers recognise (`new Worker(new URL('./worker.js', import.meta.url), { type: 'module' })`).
 */
import { RuntimeError } from '../../errors.js';
import { workerClass, wrapWorker, type WorkerHandle } from '../../threading.js';
import type { ExecPlan, SharedIO } from './layout.js';
import type { SubTrainingPlan } from './training_threads.js';

export { hardwareThreads, sharedMemorySupported, workersSupported } from '../../threading.js';

interface Reply {
  type: 'hello' | 'ready' | 'done' | 'error';
  id?: number;
  message?: string;
  outputs?: Float32Array[];
  times?: Float64Array;
}

/** The RuntimeError for a worker that could not start: the URL it tried, and the two ways out. */
function startError(url: string, e: unknown): RuntimeError {
  return new RuntimeError(
    `wasm backend: a worker thread failed to start from ${url}: ${e instanceof Error ? e.message : String(e)}. ` +
      'If a bundler built this app, it must emit that file (see the README, "Bundlers"); ' +
      'or pass threads: 1 to compile() to run the WASM backend on the calling thread, without workers',
  );
}

async function spawn(): Promise<WorkerHandle> {
  const Worker = await workerClass();
  try {
    // one statement, so that bundlers find, emit and rewrite the worker script
    return wrapWorker(new Worker(new URL('./worker.js', import.meta.url), { type: 'module' }));
  } catch (e) {
    // thrown at once: a cross-origin script (a CDN) in a browser, a URL a bundler did not rewrite
    throw startError(new URL('./worker.js', import.meta.url).href, e);
  }
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
  static async create(module: WebAssembly.Module, plans: readonly (ExecPlan | SubTrainingPlan)[], shared?: readonly SharedIO[]): Promise<WorkerPool> {
    const started = await Promise.allSettled(plans.map(() => spawn()));
    const refused = started.find((r) => r.status === 'rejected');
    if (refused !== undefined) {
      for (const r of started) if (r.status === 'fulfilled') r.value.terminate();
      throw refused.reason;
    }
    const workers = started.map((r) => (r as PromiseFulfilledResult<WorkerHandle>).value);
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
              w.onMessage((message) => {
                const reply = message as Reply;
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
      if (e instanceof RuntimeError) throw e;
      throw startError(workers[0].url, e);
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
    if (parts === null) return this.runEach(this.#workers.map(() => ({})), this.#workers.map(() => []));
    return this.runEach(parts.map((inputs) => ({ inputs })), parts.map((inputs) => inputs.map((x) => x.buffer as ArrayBuffer)));
  }

  /**
   * Sends worker i `{ type: 'run', id, ...messages[i] }` (transferring transfers[i]); resolves with
   * every worker's `outputs` and step times, as run() does.
   */
  runEach(messages: readonly Record<string, unknown>[], transfers: readonly ArrayBuffer[][]): Promise<{ outputs: Float32Array[][]; times: Float64Array[] }> {
    if (this.#failed) return Promise.reject(new RuntimeError(`wasm backend: a worker thread failed earlier: ${this.#failed.message}`));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { remaining: this.#workers.length, outputs: [], times: [], resolve, reject });
      this.#workers.forEach((w, i) => {
        w.keepAlive(true);
        w.post({ ...messages[i], type: 'run', id }, transfers[i]);
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
