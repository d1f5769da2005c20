/**
 * The training-only ops of c/training.c on the WASM backend (src/ops/training.ts): weight_form (a
 * conv weight's kernel form), the loss with its gradient, the penalty and the update rules, with
 * the codes training.c gives the loss kinds and the update rules.
 */
import {
  UPDATE_STATE, updateScalar, type LossKind, type LossStep, type PenaltyStep, type UpdateRule, type UpdateStep, type WeightFormStep,
} from '../../../ops/training.js';
import { checkRelayout, operands, type TrainingOp } from './op.js';

/** The loss kinds' codes in training.c. */
export const LOSS_CODES = Object.freeze({
  categorical_crossentropy: 0, binary_crossentropy: 1, squared_error: 2, binary_hinge: 3, multiclass_hinge: 4,
} as const satisfies Record<LossKind, number>);

/** The update rules' codes in training.c. */
export const UPDATE_CODES = Object.freeze({
  sgd: 0, momentum: 1, nesterov_momentum: 2, adagrad: 3, rmsprop: 4, adadelta: 5, adam: 6, adamax: 7,
} as const satisfies Record<UpdateRule, number>);

/**
 * The loss step's weight w (LossStep: loss = w sum l): 1 / (B per example, U B per element) for
 * 'mean', 1 for 'sum'. `batch`: the full batch, also for a thread's slice.
 */
export function lossWeight(s: Pick<LossStep, 'kind' | 'units' | 'aggregate'>, batch: number): number {
  if (s.aggregate === 'sum') return 1;
  const perExample = s.kind === 'categorical_crossentropy' || s.kind === 'multiclass_hinge';
  return 1 / (perExample ? batch : s.units * batch);
}

export const weightForm: TrainingOp<WeightFormStep> = {
  kind: 'training',
  check(s, c) {
    checkRelayout(c, s, s.input, 'parameter', s.output, 'kernel-form weight');
  },
  call: (k, s, t) => () => k.weight_form(t(s.input), t(s.output), s.channels, s.filterSize, s.filters, s.weightLayout === 'fckk' ? 0 : 1, s.flipFilters ? 1 : 0),
  operands: (s) => operands([s.input], [s.output], [], [s.input, s.output]),
};

export const loss: TrainingOp<LossStep> = {
  kind: 'training',
  check(s, c) {
    c.dims(s.units, s.batch);
    if (!Object.prototype.hasOwnProperty.call(LOSS_CODES, s.kind)) c.fail(`has loss kind ${String(s.kind)}`);
    if (s.fusedSoftmax && s.kind !== 'categorical_crossentropy') c.fail(`fuses the softmax into a ${s.kind} loss; only categorical_crossentropy fuses it`);
    if (s.kind === 'multiclass_hinge' && s.units < 2) c.fail('computes a multiclass hinge over 1 unit; it needs at least 2 classes');
    if (s.targetForm !== 'index' && s.targetForm !== 'dense') c.fail(`has targetForm ${String(s.targetForm)}`);
    if (s.aggregate !== 'mean' && s.aggregate !== 'sum') c.fail(`has aggregate ${String(s.aggregate)}`);
    const n = s.units * s.batch;
    c.tensor(s.prediction, n, 'prediction');
    c.tensor(s.targets, s.targetForm === 'index' ? s.batch : n, 'targets');
    c.tensor(s.outputGrad, n, 'output gradient');
    c.tensor(s.loss, 1, 'loss');
  },
  call(k, s, t, batch) {
    const code = LOSS_CODES[s.kind];
    const w = lossWeight(s, batch);
    return () => k.loss(t(s.prediction), t(s.targets), t(s.outputGrad), t(s.loss), s.units, s.batch, code, s.fusedSoftmax ? 1 : 0, s.targetForm === 'index' ? 1 : 0, w);
  },
  operands: (s) => operands([s.prediction, s.targets], [s.outputGrad, s.loss], [s.prediction, s.targets, s.outputGrad], [s.loss]),
};

export const penalty: TrainingOp<PenaltyStep> = {
  kind: 'training',
  check(s, c) {
    c.dims(s.count);
    if (!(Number.isFinite(s.l1) && Number.isFinite(s.l2))) c.fail(`has l1=${s.l1}, l2=${s.l2}`);
    c.tensor(s.param, s.count, 'parameter');
    c.tensor(s.grad, s.count, 'gradient');
    c.tensor(s.loss, 1, 'loss');
  },
  call: (k, s, t) => () => k.penalty(t(s.param), t(s.grad), t(s.loss), s.count, s.l1, s.l2),
  operands: (s) => operands([s.param, s.grad, s.loss], [s.grad, s.loss], [], [s.param, s.grad, s.loss]),
};

export const update: TrainingOp<UpdateStep> = {
  kind: 'training',
  check(s, c) {
    c.dims(s.count);
    if (!Object.prototype.hasOwnProperty.call(UPDATE_CODES, s.rule)) c.fail(`has update rule ${String(s.rule)}`);
    if (!Array.isArray(s.state) || s.state.length !== UPDATE_STATE[s.rule]) c.fail(`keeps ${Array.isArray(s.state) ? s.state.length : 'no'} state tensors, but ${s.rule} keeps ${UPDATE_STATE[s.rule]}`);
    for (const h of ['momentum', 'rho', 'beta1', 'beta2', 'epsilon'] as const) if (!Number.isFinite(s[h])) c.fail(`has ${h}=${s[h]}`);
    c.tensor(s.param, s.count, 'parameter');
    c.tensor(s.grad, s.count, 'gradient');
    s.state.forEach((id, i) => c.tensor(id, s.count, `state ${i}`));
  },
  call(k, s, t) {
    const code = UPDATE_CODES[s.rule];
    const s0 = s.state.length > 0 ? t(s.state[0]) : 0;
    const s1 = s.state.length > 1 ? t(s.state[1]) : 0;
    return (h) =>
      k.update_param(t(s.param), t(s.grad), s0, s1, s.count, code, updateScalar(s, h), s.momentum, s.rho, s.beta1, s.beta2, s.epsilon, 1 - s.rho, 1 - s.beta1, 1 - s.beta2);
  },
  operands: (s) => operands([s.param, s.grad, ...s.state], [s.param, ...s.state], [], [s.param, s.grad, ...s.state]),
};
