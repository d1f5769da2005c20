// The tables npm start prints about a network: its layers (class, output shape, parameters) and
// the arena plan (each tensor's shape, bytes, offset and lifetime; the kernel steps).
import * as lasagne from 'lasagne-webgpu';

/** A shape as Python prints a tuple: (None, 32, 32, 32), (10,). */
export const formatShape = (s) => (s.length === 1 ? `(${s[0] ?? 'None'},)` : `(${s.map((d) => d ?? 'None').join(', ')})`);
const pad = (s, n) => String(s).padEnd(n);
const lpad = (s, n) => String(s).padStart(n);
const mib = (b) => `${(b / 2 ** 20).toFixed(2)} MiB`;

/** One line per layer: name, class, output shape, parameters and their count; then the totals. */
export function layerTable(net) {
  const lines = [`${pad('layer', 9)} ${pad('class', 24)} ${pad('output shape', 20)} ${pad('parameters', 36)} ${lpad('count', 7)}`];
  for (const layer of lasagne.getAllLayers(net)) {
    const params = [...layer.params.keys()];
    const desc = params.map((p) => `${p.name.split('.').pop()} ${formatShape(p.shape)}`).join(', ') || '-';
    const count = params.reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);
    lines.push(`${pad(layer.name, 9)} ${pad(layer.constructor.name, 24)} ${pad(formatShape(layer.outputShape), 20)} ${pad(desc, 36)} ${lpad(count, 7)}`);
  }
  lines.push('');
  lines.push(`total parameters: ${lasagne.countParams(net)} (trainable ${lasagne.countParams(net, { trainable: true })}, regularizable ${lasagne.countParams(net, { regularizable: true })})`);
  return `${lines.join('\n')}\n`;
}

/** The arena plan of `lasagne.plan(net, { batchSize })`: tensors, kernel steps, sizes, digest. */
export function planTable(plan, batchSize) {
  const lines = [
    `arena plan (batch ${batchSize}, ${plan.alignment}-byte alignment): one buffer, tensors share bytes when their lifetimes do not overlap`,
    '',
    `${pad('tensor', 9)} ${pad('shape', 20)} ${lpad('bytes', 10)} ${lpad('offset', 10)}  live steps`,
  ];
  for (const t of plan.tensors) {
    lines.push(`${pad(t.producer, 9)} ${pad(formatShape(t.shape), 20)} ${lpad(t.bytes, 10)} ${lpad(t.offset, 10)}  ${t.first}-${t.last}`);
  }
  lines.push('');
  lines.push(`kernel steps (c01b inside; inverse transposes elided): ${plan.steps.map((s) => `${s.index}:${s.op}(${s.layer})`).join(' -> ')}`);
  lines.push(
    `arena: ${plan.arenaBytes} bytes (${mib(plan.arenaBytes)}) vs ${plan.naiveBytes} bytes (${mib(plan.naiveBytes)}) for one buffer per tensor: ` +
      `${((100 * plan.arenaBytes) / plan.naiveBytes).toFixed(1)}%`,
  );
  lines.push(`plan digest: ${plan.digest}`);
  return `${lines.join('\n')}\n`;
}
