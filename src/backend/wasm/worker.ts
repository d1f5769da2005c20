/**
 * Worker entry of the WASM backend (Node `worker_threads` and browser module Workers): owns one
 * Engine, i.e. one kernels instance running the plan of its sub-batch. Protocol (threads.ts is the
 * other side): the worker says `hello` once it listens; then `init` {module, plan, shared?} ->
 * `ready`; `slot` {slot, data} (no reply; ordered before the next run); `run` {id, inputs?} ->
 * `done` {id, times, outputs?}; any failure -> `error` {id, message}.
 * With `shared` (SharedArrayBuffers of the full-batch inputs and outputs), `run` carries no data:
 * the worker copies its batch slice of each input into its module's memory and its outputs back
 * into their slices, so these strided copies run in parallel across workers. Without it, inputs
 * arrive with the message and outputs leave with the reply, their buffers transferred.
 */
import { Engine } from './engine.js';
import type { KernelsExports } from './kernels_abi.js';
import { copyBatch, type ExecPlan, type SharedIO } from './layout.js';
import { trainingCall } from './training.js';
import { SubTrainer, type SubTrainingPlan } from './training_threads.js';
import { parentPort, type ParentPort } from '../../threading.js';

type Incoming =
  | { type: 'init'; module: WebAssembly.Module; plan: ExecPlan | SubTrainingPlan; shared?: SharedIO }
  | { type: 'slot'; slot: number; data: Float32Array }
  | { type: 'run'; id: number; inputs?: Float32Array[]; globals?: Float32Array[]; counter?: number; read?: number[] };

// no top-level await: bundlers may build workers as classic scripts (Vite's default)
let port: ParentPort;
let engine: Engine | null = null;
/** The training slice this worker runs instead of an Engine (training_threads.ts). */
let trainer: SubTrainer | null = null;
let shared: SharedIO | undefined;

/** Moves a tensor slice between shared full-batch memory and the module's memory. */
function exchange(view: Float32Array, t: SharedIO['inputs'][number], b0: number, toModule: boolean): void {
  const full = new Float32Array(t.buffer);
  copyBatch(full, t.batch, t.axis, b0, view, view.length / (full.length / t.batch), toModule);
}

function onMessage(message: unknown): void {
  const msg = message as Incoming;
  try {
    if (msg.type === 'init' && 'training' in msg.plan) {
      const k = new WebAssembly.Instance(msg.module, {}).exports as unknown as KernelsExports;
      trainer = new SubTrainer(k, msg.plan, trainingCall);
      port.post({ type: 'ready' });
    } else if (msg.type === 'init') {
      shared = msg.shared;
      Engine.create(msg.module, msg.plan as ExecPlan).then(
        (e) => {
          engine = e;
          port.post({ type: 'ready' });
        },
        (err: unknown) => port.post({ type: 'error', id: -1, message: err instanceof Error ? err.message : String(err) }),
      );
    } else if (msg.type === 'slot') {
      (engine as Engine).writeSlot(msg.slot, msg.data);
    } else if (msg.type === 'run' && trainer !== null) {
      const outputs = trainer.run(msg.inputs ?? [], msg.globals ?? [], msg.counter ?? 0, msg.read ?? []);
      const times = Float64Array.from(trainer.times);
      port.post({ type: 'done', id: msg.id, outputs, times }, [...outputs.map((o) => o.buffer as ArrayBuffer), times.buffer]);
    } else if (msg.type === 'run') {
      const e = engine as Engine;
      if (msg.inputs === undefined && shared !== undefined) {
        const io = shared;
        io.inputs.forEach((t, i) => exchange(e.inputView(i), t, io.b0, true));
        e.execute();
        io.outputs.forEach((t, o) => exchange(e.outputView(o), t, io.b0, false));
        const times = Float64Array.from(e.times);
        port.post({ type: 'done', id: msg.id, times }, [times.buffer]);
      } else {
        const outputs = e.run(msg.inputs ?? []);
        const times = Float64Array.from(e.times);
        port.post({ type: 'done', id: msg.id, outputs, times }, [...outputs.map((o) => o.buffer as ArrayBuffer), times.buffer]);
      }
    }
  } catch (err) {
    port.post({ type: 'error', id: msg.type === 'run' ? msg.id : -1, message: err instanceof Error ? err.message : String(err) });
  }
}

void parentPort().then((p) => {
  port = p;
  port.listen(onMessage);
  port.post({ type: 'hello' });
});
