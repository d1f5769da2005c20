/**
 * Worker entry of `spawnWorker` (a Node `worker_threads` worker or a browser module Worker): builds
 * the network from its model file and weights, compiles it, and runs it on request. Protocol
 * (spawn_worker.ts is the other side): the worker says `hello` once it listens; `init` {model,
 * weights?, options} -> `ready` {backend, device, inputs, outputs} (their shapes); `run` {id, inputs}
 * -> `done` {id, outputs} (buffers transferred); any failure -> `error` {id (-1 for init), error}.
 * Errors travel as {kind, message}, `kind` found with instanceof so it survives minified bundles.
 */
import { NotImplementedError, RuntimeError, ValueError } from '../errors.js';
import { loadNpz } from '../io/npz.js';
import { setAllParamValues } from '../layers/helper.js';
import { fromJSON } from '../layers/json.js';
import type { InputLayer } from '../layers/input.js';
import type { NDArray } from '../ndarray.js';
import { compile, type CompileOptions, type Network } from '../compile/network.js';
import { parentPort, type ParentPort } from '../threading.js';

type Incoming =
  | { type: 'init'; model: unknown; weights?: Uint8Array; options: CompileOptions }
  | { type: 'run'; id: number; inputs: NDArray[] };

/** Error kinds the client rebuilds as the same classes. */
export type ErrorKind = 'ValueError' | 'RuntimeError' | 'NotImplementedError' | 'TypeError' | 'RangeError' | 'Error';

export function errorKind(e: unknown): ErrorKind {
  if (e instanceof ValueError) return 'ValueError';
  if (e instanceof RuntimeError) return 'RuntimeError';
  if (e instanceof NotImplementedError) return 'NotImplementedError';
  if (e instanceof TypeError) return 'TypeError';
  if (e instanceof RangeError) return 'RangeError';
  return 'Error';
}

// no top-level await: bundlers may build workers as classic scripts (Vite's default)
let port: ParentPort;
let network: Network | null = null;

function fail(id: number, e: unknown): void {
  port.post({ type: 'error', id, error: { kind: errorKind(e), message: e instanceof Error ? e.message : String(e) } });
}

async function init(msg: Extract<Incoming, { type: 'init' }>): Promise<void> {
  const built = fromJSON(msg.model as string);
  if (msg.weights !== undefined) setAllParamValues(built, loadNpz(msg.weights));
  network = await compile(built, msg.options);
  const shapeOf = (t: number): number[] => [...(network as Network).plan.tensors[t].shape];
  port.post({
    type: 'ready', backend: network.backend, device: network.device,
    inputs: network.plan.inputs.map(shapeOf), outputs: network.plan.outputs.map(shapeOf),
  });
}

async function run(msg: Extract<Incoming, { type: 'run' }>): Promise<void> {
  const net = network as Network;
  const input = net.inputLayers.length === 1 ? msg.inputs[0] : new Map<InputLayer, NDArray>(net.inputLayers.map((l, i) => [l, msg.inputs[i]]));
  const y = await net.run(input);
  const outputs = Array.isArray(y) ? y : [y];
  // the backends return fresh arrays, so their buffers can be handed over
  port.post({ type: 'done', id: msg.id, outputs }, outputs.flatMap((o) => (o.data.buffer instanceof ArrayBuffer ? [o.data.buffer] : [])));
}

void parentPort().then((p) => {
  port = p;
  port.listen((message) => {
    const msg = message as Incoming;
    if (msg.type === 'init') init(msg).catch((e: unknown) => fail(-1, e));
    else if (msg.type === 'run') run(msg).catch((e: unknown) => fail(msg.id, e));
  });
  port.post({ type: 'hello' });
});
