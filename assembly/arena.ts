import { OK, E_ARENA_TOO_MANY, E_ARENA_INDEX, E_ARENA_LIFETIME, E_ARENA_SIZE, E_ARENA_ALIGNMENT } from './errors';

// Arena planner: tensors with byte sizes and lifetimes [first, last] (inclusive step indices) in,
// aligned byte offsets in one buffer out. Two tensors may share bytes only if their lifetimes do
// not overlap.
//
// Algorithm: every placement is "lowest fit": a tensor goes to the lowest aligned offset where it
// overlaps no already-placed tensor whose lifetime overlaps its own. The order of placement is the
// only freedom, and some order reaches the optimum: sort an optimal placement by offset and place
// in that order; by induction each tensor's optimal offset is still free (every earlier, conflicting
// tensor sits at or below its optimal offset, hence ends at or below this one's), so lowest fit
// puts it no higher. Hence:
//   - components of the conflict graph are planned independently (each from offset 0);
//   - a component of at most EXACT_LIMIT tensors is solved EXACTLY: depth-first search over all
//     placement orders with branch-and-bound on the running peak, seeded by the greedy result;
//   - a larger component takes the best of three greedy orders (size descending, which is the
//     "greedy by size" of TFLite and at least as good as best-fit here in practice; first use
//     ascending; lifetime length descending).
// Deterministic: ties are broken by tensor index; no floating point in the decisions.
// Sizes are rounded up to the alignment, so every offset is aligned.

const CAPACITY: i32 = 4096;
export const EXACT_LIMIT: i32 = 9;

// Static scratch (stub runtime, nothing allocated): per-tensor i64 size, i32 first/last,
// i64 offset, plus work arrays.
const SIZE = memory.data(CAPACITY * 8);
const FIRST = memory.data(CAPACITY * 4);
const LAST = memory.data(CAPACITY * 4);
const OFFSET = memory.data(CAPACITY * 8);
const COMP = memory.data(CAPACITY * 4);     // component id per tensor
const MEMBERS = memory.data(CAPACITY * 4);  // tensors of the component being planned
const ORDER = memory.data(CAPACITY * 4);    // a placement order (indices into MEMBERS)
const PLACED = memory.data(CAPACITY * 4);   // positions (in MEMBERS) placed so far
const WORK_OFF = memory.data(CAPACITY * 8); // offsets of the current candidate, by MEMBERS position
const BEST_OFF = memory.data(CAPACITY * 8); // best offsets found, by MEMBERS position
const GAP_LO = memory.data(CAPACITY * 8);   // sorted busy intervals for one lowest-fit query
const GAP_HI = memory.data(CAPACITY * 8);
const USED = memory.data(CAPACITY * 4);

let count: i32 = 0;
let memberCount: i32 = 0;
let bestPeak: i64 = 0;

@inline function size(i: i32): i64 { return load<i64>(SIZE + (<usize>i << 3)); }
@inline function first(i: i32): i32 { return load<i32>(FIRST + (<usize>i << 2)); }
@inline function last(i: i32): i32 { return load<i32>(LAST + (<usize>i << 2)); }
@inline function member(p: i32): i32 { return load<i32>(MEMBERS + (<usize>p << 2)); }
@inline function workOff(p: i32): i64 { return load<i64>(WORK_OFF + (<usize>p << 3)); }

@inline function conflicts(a: i32, b: i32): bool {
  return first(a) <= last(b) && first(b) <= last(a);
}

export function arenaCapacity(): i32 {
  return CAPACITY;
}

export function arenaReset(n: i32): i32 {
  if (n < 0 || n > CAPACITY) return E_ARENA_TOO_MANY;
  count = n;
  memory.fill(SIZE, 0, <usize>CAPACITY * 8);
  memory.fill(FIRST, 0, <usize>CAPACITY * 4);
  memory.fill(LAST, 0, <usize>CAPACITY * 4);
  memory.fill(OFFSET, 0, <usize>CAPACITY * 8);
  return OK;
}

/** Declares tensor i: `bytes` (an integer-valued f64 below 2^52), live from step `first` to `last`. */
export function arenaDefine(i: i32, bytes: f64, firstStep: i32, lastStep: i32): i32 {
  if (i < 0 || i >= count) return E_ARENA_INDEX;
  if (!(bytes >= 0) || bytes > 4503599627370496.0 || Math.floor(bytes) != bytes) return E_ARENA_SIZE;
  if (firstStep < 0 || lastStep < firstStep) return E_ARENA_LIFETIME;
  store<i64>(SIZE + (<usize>i << 3), <i64>bytes);
  store<i32>(FIRST + (<usize>i << 2), firstStep);
  store<i32>(LAST + (<usize>i << 2), lastStep);
  return OK;
}

/**
 * Lowest fit of MEMBERS position p given the `placedCount` positions in PLACED (already at
 * WORK_OFF): the lowest offset where p's interval [off, off + size) meets no conflicting tensor.
 */
function lowestFit(p: i32, placedCount: i32): i64 {
  const t = member(p);
  const need = size(t);
  let n: i32 = 0;
  for (let j: i32 = 0; j < placedCount; j++) {
    const q = load<i32>(PLACED + (<usize>j << 2));
    const u = member(q);
    if (size(u) == 0 || !conflicts(t, u)) continue;
    const lo = workOff(q);
    const hi = lo + size(u);
    // insertion sort by lo
    let k = n;
    while (k > 0 && load<i64>(GAP_LO + (<usize>(k - 1) << 3)) > lo) {
      store<i64>(GAP_LO + (<usize>k << 3), load<i64>(GAP_LO + (<usize>(k - 1) << 3)));
      store<i64>(GAP_HI + (<usize>k << 3), load<i64>(GAP_HI + (<usize>(k - 1) << 3)));
      k--;
    }
    store<i64>(GAP_LO + (<usize>k << 3), lo);
    store<i64>(GAP_HI + (<usize>k << 3), hi);
    n++;
  }
  let candidate: i64 = 0;
  for (let j: i32 = 0; j < n; j++) {
    const lo = load<i64>(GAP_LO + (<usize>j << 3));
    const hi = load<i64>(GAP_HI + (<usize>j << 3));
    if (lo >= candidate + need) break;
    if (hi > candidate) candidate = hi;
  }
  return candidate;
}

/** Places MEMBERS in the order ORDER[0..memberCount) and returns the peak (end of highest tensor). */
function placeInOrder(): i64 {
  let peak: i64 = 0;
  for (let j: i32 = 0; j < memberCount; j++) {
    const p = load<i32>(ORDER + (<usize>j << 2));
    const off = lowestFit(p, j);
    store<i64>(WORK_OFF + (<usize>p << 3), off);
    store<i32>(PLACED + (<usize>j << 2), p);
    const end = off + size(member(p));
    if (end > peak) peak = end;
  }
  return peak;
}

function keepIfBetter(peak: i64): void {
  if (peak < bestPeak) {
    bestPeak = peak;
    memory.copy(BEST_OFF, WORK_OFF, <usize>memberCount << 3);
  }
}

// Sorts ORDER by a key (kind 0: size desc, 1: first asc, 2: lifetime length desc), ties by index.
function keyLess(kind: i32, a: i32, b: i32): bool {
  const ta = member(a), tb = member(b);
  if (kind == 0) {
    if (size(ta) != size(tb)) return size(ta) > size(tb);
  } else if (kind == 1) {
    if (first(ta) != first(tb)) return first(ta) < first(tb);
    if (size(ta) != size(tb)) return size(ta) > size(tb);
  } else {
    const la = last(ta) - first(ta), lb = last(tb) - first(tb);
    if (la != lb) return la > lb;
    if (size(ta) != size(tb)) return size(ta) > size(tb);
  }
  return ta < tb;
}

function greedy(kind: i32): void {
  for (let j: i32 = 0; j < memberCount; j++) store<i32>(ORDER + (<usize>j << 2), j);
  for (let j: i32 = 1; j < memberCount; j++) {
    const v = load<i32>(ORDER + (<usize>j << 2));
    let k = j;
    while (k > 0 && keyLess(kind, v, load<i32>(ORDER + (<usize>(k - 1) << 2)))) {
      store<i32>(ORDER + (<usize>k << 2), load<i32>(ORDER + (<usize>(k - 1) << 2)));
      k--;
    }
    store<i32>(ORDER + (<usize>k << 2), v);
  }
  keepIfBetter(placeInOrder());
}

/** Depth-first search over placement orders; `depth` positions are placed, `peak` is their top. */
function search(depth: i32, peak: i64): void {
  if (peak >= bestPeak) return;
  if (depth == memberCount) {
    keepIfBetter(peak);
    return;
  }
  for (let p: i32 = 0; p < memberCount; p++) {
    if (load<i32>(USED + (<usize>p << 2)) != 0) continue;
    const off = lowestFit(p, depth);
    const end = off + size(member(p));
    store<i64>(WORK_OFF + (<usize>p << 3), off);
    store<i32>(PLACED + (<usize>depth << 2), p);
    store<i32>(USED + (<usize>p << 2), 1);
    search(depth + 1, end > peak ? end : peak);
    store<i32>(USED + (<usize>p << 2), 0);
  }
}

/**
 * Plans all tensors declared since arenaReset. Returns the arena size in bytes (f64), or a
 * negative error code. Offsets are then read with arenaOffset(i).
 */
export function arenaPlan(alignment: i32): f64 {
  if (alignment < 4 || (alignment & (alignment - 1)) != 0) return <f64>E_ARENA_ALIGNMENT;
  const a = <i64>alignment;
  for (let i: i32 = 0; i < count; i++) {
    const s = size(i);
    store<i64>(SIZE + (<usize>i << 3), (s + a - 1) / a * a);
    store<i64>(OFFSET + (<usize>i << 3), 0);
    store<i32>(COMP + (<usize>i << 2), -1);
  }
  // Components by flood fill over the conflict graph (O(n^2); n is a few hundred at most).
  let components: i32 = 0;
  for (let i: i32 = 0; i < count; i++) {
    if (load<i32>(COMP + (<usize>i << 2)) >= 0) continue;
    store<i32>(COMP + (<usize>i << 2), components);
    let head: i32 = 0;
    memberCount = 1;
    store<i32>(MEMBERS, i);
    while (head < memberCount) {
      const t = member(head++);
      for (let j: i32 = 0; j < count; j++) {
        if (load<i32>(COMP + (<usize>j << 2)) >= 0 || !conflicts(t, j)) continue;
        store<i32>(COMP + (<usize>j << 2), components);
        store<i32>(MEMBERS + (<usize>memberCount << 2), j);
        memberCount++;
      }
    }
    // Members in index order, so results do not depend on the flood-fill order.
    for (let j: i32 = 1; j < memberCount; j++) {
      const v = member(j);
      let k = j;
      while (k > 0 && member(k - 1) > v) {
        store<i32>(MEMBERS + (<usize>k << 2), member(k - 1));
        k--;
      }
      store<i32>(MEMBERS + (<usize>k << 2), v);
    }
    bestPeak = i64.MAX_VALUE;
    greedy(0);
    if (memberCount <= EXACT_LIMIT) {
      memory.fill(USED, 0, <usize>memberCount << 2);
      search(0, 0);
    } else {
      greedy(1);
      greedy(2);
    }
    for (let j: i32 = 0; j < memberCount; j++) {
      store<i64>(OFFSET + (<usize>member(j) << 3), load<i64>(BEST_OFF + (<usize>j << 3)));
    }
    components++;
  }
  let total: i64 = 0;
  for (let i: i32 = 0; i < count; i++) {
    const end = load<i64>(OFFSET + (<usize>i << 3)) + size(i);
    if (end > total) total = end;
  }
  return <f64>total;
}

/** The planned byte offset of tensor i (after arenaPlan), or E_ARENA_INDEX. */
export function arenaOffset(i: i32): f64 {
  if (i < 0 || i >= count) return <f64>E_ARENA_INDEX;
  return <f64>load<i64>(OFFSET + (<usize>i << 3));
}
