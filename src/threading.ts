/**
 * Worker threads on every platform (core: no layer, plan or backend knowledge): Node's
 * `worker_threads` and browsers' module Workers behind one small handle, for the WASM backend's
 * thread pool and for `spawnWorker`.
 *
 * Each caller creates its workers itself, in the one statement bundlers recognise (esbuild users
 * emit the file as an entry point; Vite and webpack rewrite the URL and bundle the worker):
 *
 * ```ts
 * const Worker = await workerClass();
 * const w = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
 * ```
 *
 * and hands it to `wrapWorker`. The classes remember the URL they were given (after a bundler
 * rewrote it), for error messages.
 */

type NodeProcess = { versions?: { node?: string } };

/** Whether this is Node (worker_threads) rather than a browser (Web Workers). */
export const isNode = (): boolean => typeof (globalThis as { process?: NodeProcess }).process?.versions?.node === 'string';

/** Imports a Node built-in; the specifier is a variable so that bundlers for the browser leave it alone. */
export async function nodeImport<T>(spec: string): Promise<T> {
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
 * `hello`) before its owner has attached handlers, and an event with no listener is lost.
 */
export class Mailbox<T> {
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

/** What `new Worker(url, { type: 'module' })` returns on either platform (used through wrapWorker). */
export type AnyWorker = { readonly scriptUrl: string };
export type WorkerClass = new (url: URL, options: { type: 'module' }) => AnyWorker;

interface NodeWorker {
  postMessage(m: unknown, t?: readonly ArrayBuffer[]): void;
  on(event: string, h: (x: never) => void): void;
  ref(): void;
  unref(): void;
  terminate(): Promise<number>;
}

let platformWorkerClass: WorkerClass | null = null;

/**
 * The Worker class of this platform, remembering its script URL: browsers' `Worker`, or Node's
 * `worker_threads.Worker` started without the parent's execArgv (options such as --input-type or
 * --eval are refused in a worker).
 */
export async function workerClass(): Promise<WorkerClass> {
  if (platformWorkerClass !== null) return platformWorkerClass;
  if (isNode()) {
    const wt = await nodeImport<{ Worker: new (url: URL, options: object) => NodeWorker }>('node:worker_threads');
    platformWorkerClass = class extends wt.Worker {
      readonly scriptUrl: string;
      constructor(url: URL, options: { type: 'module' }) {
        super(url, { ...options, execArgv: [] });
        this.scriptUrl = String(url);
      }
    };
  } else {
    const Base = (globalThis as unknown as { Worker: new (url: URL, options: object) => object }).Worker;
    platformWorkerClass = class extends Base {
      readonly scriptUrl: string;
      constructor(url: URL, options: { type: 'module' }) {
        super(url, options);
        this.scriptUrl = String(url);
      }
    };
  }
  return platformWorkerClass;
}

/** The part of a Node Worker or a browser Worker that the pools use. */
export interface WorkerHandle {
  /** The script URL the worker was started from. */
  readonly url: string;
  /** The platform's worker object (tests reach it to kill a worker from outside). */
  readonly raw: AnyWorker;
  post(message: unknown, transfer?: ArrayBuffer[]): void;
  onMessage(handler: (message: unknown) => void): void;
  /** A worker that fails to load, throws outside a handler or exits; called at most once. */
  onFailure(handler: (error: Error) => void): void;
  /** Node: whether the worker keeps the process alive (only while it has work). */
  keepAlive(on: boolean): void;
  terminate(): void;
}

/** Wraps a worker made by `new (await workerClass())(url, { type: 'module' })`. */
export function wrapWorker(worker: AnyWorker): WorkerHandle {
  const url = worker.scriptUrl;
  const messages = new Mailbox<unknown>();
  const failures = new Mailbox<Error>();
  let failed = false;
  let terminated = false;
  const fail = (e: Error): void => {
    if (failed || terminated) return;
    failed = true;
    failures.deliver(e);
  };
  if (isNode()) {
    const w = worker as unknown as NodeWorker;
    // listen before anything else runs: the worker may speak before its owner is ready
    w.on('message', ((m: unknown) => messages.deliver(m)) as (x: never) => void);
    w.on('error', ((e: Error) => fail(e)) as (x: never) => void);
    w.on('exit', ((code: number) => fail(new Error(`the worker exited with code ${code}`))) as (x: never) => void);
    w.unref();
    return {
      url,
      raw: worker,
      post: (m, t) => w.postMessage(m, t),
      onMessage: (h) => messages.set(h),
      onFailure: (h) => failures.set(h),
      keepAlive: (on) => (on ? w.ref() : w.unref()),
      terminate: () => {
        terminated = true;
        void w.terminate();
      },
    };
  }
  const w = worker as unknown as Worker;
  w.addEventListener('message', (e: MessageEvent) => messages.deliver(e.data));
  // A script that cannot be fetched or evaluated fires an ErrorEvent with no message in Chromium.
  w.addEventListener('error', (e: ErrorEvent) => {
    e.preventDefault?.();
    fail(new Error(e.message || 'the worker script could not be loaded or failed to evaluate'));
  });
  w.addEventListener('messageerror', () => fail(new Error('a message from the worker could not be deserialised')));
  return {
    url,
    raw: worker,
    post: (m, t) => w.postMessage(m, t ?? []),
    onMessage: (h) => messages.set(h),
    onFailure: (h) => failures.set(h),
    keepAlive: () => undefined,
    terminate: () => {
      terminated = true;
      w.terminate();
    },
  };
}

/** The worker side: this thread's connection to the thread that started it. */
export interface ParentPort {
  post(message: unknown, transfer?: ArrayBuffer[]): void;
  listen(handler: (message: unknown) => void): void;
}

export async function parentPort(): Promise<ParentPort> {
  if (isNode()) {
    const { parentPort: port } = await nodeImport<{ parentPort: NodeWorker & { on(e: 'message', h: (m: unknown) => void): void } }>('node:worker_threads');
    return {
      post: (m, t) => port.postMessage(m, t),
      listen: (h) => port.on('message', h),
    };
  }
  const scope = globalThis as unknown as {
    postMessage(m: unknown, t?: ArrayBuffer[]): void;
    addEventListener(type: 'message', h: (e: { data: unknown }) => void): void;
  };
  return {
    post: (m, t) => scope.postMessage(m, t ?? []),
    listen: (h) => scope.addEventListener('message', (e) => h(e.data)),
  };
}
