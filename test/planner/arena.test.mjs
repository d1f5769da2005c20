// The arena planner against brute force on small random graphs, and its invariants on large ones.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { planArena, wasm, CODES } from '../../dist/planner/planner.js';
import { ValueError } from '../../dist/errors.js';

function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomGraph(r, n, steps, align) {
  return Array.from({ length: n }, () => {
    const a = Math.floor(r() * steps);
    const b = Math.floor(r() * steps);
    const bytes = r() < 0.1 ? 0 : 1 + Math.floor(r() * 5 * align);
    return { bytes, first: Math.min(a, b), last: Math.max(a, b) };
  });
}

const conflict = (a, b) => a.first <= b.last && b.first <= a.last;
const roundUp = (x, a) => Math.ceil(x / a) * a;

// Independent reference: lowest fit in a given order (an optimal order exists; see assembly/arena.ts).
function lowestFitPeak(ts, order, align) {
  const off = new Array(ts.length);
  let peak = 0;
  for (const i of order) {
    const size = roundUp(ts[i].bytes, align);
    const busy = order.slice(0, order.indexOf(i))
      .filter((j) => ts[j].bytes > 0 && conflict(ts[i], ts[j]))
      .map((j) => [off[j], off[j] + roundUp(ts[j].bytes, align)])
      .sort((x, y) => x[0] - y[0]);
    let at = 0;
    for (const [lo, hi] of busy) {
      if (lo >= at + size) break;
      at = Math.max(at, hi);
    }
    off[i] = at;
    peak = Math.max(peak, at + size);
  }
  return peak;
}

function* permutations(items) {
  if (items.length <= 1) {
    yield items;
    return;
  }
  for (let i = 0; i < items.length; i++) {
    for (const rest of permutations([...items.slice(0, i), ...items.slice(i + 1)])) yield [items[i], ...rest];
  }
}

function bruteForceOptimum(ts, align) {
  let best = Infinity;
  for (const order of permutations(ts.map((_, i) => i))) best = Math.min(best, lowestFitPeak(ts, order, align));
  return ts.length === 0 ? 0 : best;
}

// A second, assumption-free brute force: every assignment of offsets on the alignment grid.
function gridOptimum(ts, align) {
  const units = ts.map((t) => roundUp(t.bytes, align) / align);
  const limit = units.reduce((a, b) => a + b, 0);
  let best = limit;
  const off = new Array(ts.length).fill(0);
  const rec = (i, peak) => {
    if (peak >= best) return;
    if (i === ts.length) {
      best = peak;
      return;
    }
    for (let o = 0; o + units[i] <= limit; o++) {
      let ok = true;
      for (let j = 0; j < i && ok; j++) {
        if (units[i] && units[j] && conflict(ts[i], ts[j]) && o < off[j] + units[j] && off[j] < o + units[i]) ok = false;
      }
      if (!ok) continue;
      off[i] = o;
      rec(i + 1, Math.max(peak, o + units[i]));
    }
  };
  rec(0, 0);
  return best * align;
}

function checkInvariants(ts, plan, align, label) {
  const { offsets, totalBytes } = plan;
  assert.is(offsets.length, ts.length);
  ts.forEach((t, i) => {
    assert.is(offsets[i] % align, 0, `${label}: offset ${i} is aligned`);
    assert.ok(offsets[i] + t.bytes <= totalBytes, `${label}: tensor ${i} fits in the arena`);
    for (let j = 0; j < i; j++) {
      const u = ts[j];
      if (t.bytes === 0 || u.bytes === 0 || !conflict(t, u)) continue;
      const disjoint = offsets[i] + roundUp(t.bytes, align) <= offsets[j] || offsets[j] + roundUp(u.bytes, align) <= offsets[i];
      assert.ok(disjoint, `${label}: live tensors ${j} and ${i} overlap`);
    }
  });
  const naive = ts.reduce((n, t) => n + roundUp(t.bytes, align), 0);
  assert.ok(totalBytes <= naive, `${label}: total ${totalBytes} <= naive ${naive}`);
  const steps = Math.max(0, ...ts.map((t) => t.last)) + 1;
  for (let s = 0; s < steps; s++) {
    const live = ts.filter((t) => t.first <= s && s <= t.last).reduce((n, t) => n + roundUp(t.bytes, align), 0);
    assert.ok(totalBytes >= live, `${label}: total ${totalBytes} >= bytes live at step ${s}`);
  }
}

const arena = suite('arena planner');

arena('the two brute forces agree, which backs the lowest-fit lemma the planner relies on', () => {
  const r = rng(7);
  for (let c = 0; c < 60; c++) {
    const ts = randomGraph(r, 1 + Math.floor(r() * 4), 4, 4);
    assert.is(bruteForceOptimum(ts, 4), gridOptimum(ts, 4), JSON.stringify(ts));
  }
});

arena('small random graphs get the exact optimum, with no overlap of live tensors', () => {
  const r = rng(42);
  for (let c = 0; c < 300; c++) {
    const align = [4, 16, 256][c % 3];
    const ts = randomGraph(r, 1 + Math.floor(r() * 7), 2 + Math.floor(r() * 6), align);
    const plan = planArena(ts, align);
    checkInvariants(ts, plan, align, `case ${c}`);
    assert.is(plan.totalBytes, bruteForceOptimum(ts, align), `case ${c}: ${JSON.stringify(ts)}`);
  }
});

arena('large random graphs keep every invariant and beat or match greedy by size', () => {
  const r = rng(2026);
  for (let c = 0; c < 40; c++) {
    const n = 10 + Math.floor(r() * 60);
    const ts = randomGraph(r, n, 5 + Math.floor(r() * 40), 256);
    const plan = planArena(ts, 256);
    checkInvariants(ts, plan, 256, `large case ${c}`);
    const bySize = ts.map((_, i) => i).sort((a, b) => roundUp(ts[b].bytes, 256) - roundUp(ts[a].bytes, 256) || a - b);
    assert.ok(plan.totalBytes <= lowestFitPeak(ts, bySize, 256), `large case ${c}`);
  }
});

arena('a chain (each tensor read by the next step) needs only the largest adjacent pair', () => {
  const sizes = [1572864, 16777216, 4194304, 4194304, 1048576, 2097152, 524288, 524288, 81920, 81920];
  const ts = sizes.map((bytes, i) => ({ bytes, first: Math.max(0, i - 1), last: i }));
  const plan = planArena(ts, 256);
  const bound = Math.max(...sizes.slice(1).map((s, i) => s + sizes[i]));
  assert.is(plan.totalBytes, bound);
});

arena('plans are deterministic', () => {
  const ts = randomGraph(rng(5), 50, 20, 256);
  const a = planArena(ts, 256);
  const b = planArena(ts, 256);
  assert.equal(a, b);
});

arena('an empty plan has zero bytes; zero-size tensors take no room', () => {
  assert.equal(planArena([], 256), { offsets: [], totalBytes: 0 });
  assert.equal(planArena([{ bytes: 0, first: 0, last: 3 }, { bytes: 10, first: 0, last: 3 }], 256).totalBytes, 256);
});

arena('bad tensors and alignments are refused with the planner\'s codes', () => {
  assert.is(wasm.arena_reset(wasm.arena_capacity() + 1), CODES.E_ARENA_TOO_MANY);
  assert.is(wasm.arena_reset(2), CODES.OK);
  assert.is(wasm.arena_define(2, 8, 0, 0), CODES.E_ARENA_INDEX);
  assert.is(wasm.arena_define(0, -8, 0, 0), CODES.E_ARENA_SIZE);
  assert.is(wasm.arena_define(0, 8.5, 0, 0), CODES.E_ARENA_SIZE);
  assert.is(wasm.arena_define(0, NaN, 0, 0), CODES.E_ARENA_SIZE);
  assert.is(wasm.arena_define(0, 8, 3, 2), CODES.E_ARENA_LIFETIME);
  assert.is(wasm.arena_plan(100), CODES.E_ARENA_ALIGNMENT);
  assert.throws(() => planArena([{ bytes: -1, first: 0, last: 0 }], 256), (e) => e instanceof ValueError && /byte size/.test(e.message));
  assert.throws(() => planArena(new Array(wasm.arena_capacity() + 1).fill({ bytes: 4, first: 0, last: 0 }), 256),
    (e) => e instanceof ValueError && /more tensors than the planner holds/.test(e.message));
});

arena.run();
