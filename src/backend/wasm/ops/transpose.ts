/**
 * The transpose op (src/ops/steps.ts TransposeStep) on the WASM backend: c/transpose.c, a 2-D
 * transpose of the 4-D tensor viewed as (d0, d1 d2 d3) or (d0 d1 d2, d3). The one op that moves the
 * batch axis (bc01 <-> c01b).
 */
import { shapeSize } from '../../../ndarray.js';
import type { TransposeStep } from '../../../ops/steps.js';
import { operands, type ForwardOp } from './op.js';


/** Whether the input is bc01 (batch first): perm [1, 2, 3, 0]. */
const batchFirstIn = (s: TransposeStep): boolean => s.perm[0] === 1;

export const transpose: ForwardOp<TransposeStep> = {
  kind: 'forward',
  elements: (s) => ({ input: shapeSize(s.inShape), output: shapeSize(s.inShape) }),
  dims: (s) => [...s.inShape],
  check(s, fail) {
    if (!(s.perm.join() === '1,2,3,0' || s.perm.join() === '3,0,1,2')) fail(`has perm [${String(s.perm)}]`);
  },
  call(k, s, at) {
    const src = at.tensor(s.input);
    const dst = at.tensor(s.output);
    const [d0, d1, d2, d3] = s.inShape;
    // [1,2,3,0]: (d0, d1*d2*d3) -> transposed; [3,0,1,2]: (d0*d1*d2, d3) -> transposed
    const [rows, cols] = batchFirstIn(s) ? [d0, d1 * d2 * d3] : [d0 * d1 * d2, d3];
    return () => k.transpose(src, dst, rows, cols);
  },
  operands: (s) => operands([s.input], [s.output], [], []),
  withBatch(s, sub) {
    const inShape = [...s.inShape] as TransposeStep['inShape'];
    inShape[batchFirstIn(s) ? 0 : 3] = sub;
    return { ...s, inShape };
  },
  batchOf: (s) => (batchFirstIn(s) ? s.inShape[0] : s.inShape[3]),
  batchAxes: (s) => (batchFirstIn(s) ? ['first', 'last'] : ['last', 'first']),
};
