// updates: the descriptors compileTraining reads (rule, Lasagne's defaults, required learning rates, validation).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as lasagne from 'lasagne-webgpu';
import { throwsWith } from './layers/support.mjs';
import { UPDATE_DEFAULTS } from './reference/training_ops.mjs';

const { updates } = lasagne;
const { ValueError } = lasagne.errors;

const FUNCTIONS = {
  sgd: updates.sgd, momentum: updates.momentum, nesterov_momentum: updates.nesterovMomentum, adagrad: updates.adagrad,
  rmsprop: updates.rmsprop, adadelta: updates.adadelta, adam: updates.adam, adamax: updates.adamax,
};
const FIELDS = ['rule', 'learningRate', 'momentum', 'rho', 'beta1', 'beta2', 'epsilon'];

const U = suite('updates');

U("each rule's descriptor has Lasagne's defaults, 0 for the fields it does not use, and is frozen", () => {
  for (const [rule, fn] of Object.entries(FUNCTIONS)) {
    const needsLr = UPDATE_DEFAULTS[rule].learningRate === undefined;
    const d = fn(needsLr ? { learningRate: 0.05 } : undefined);
    assert.equal(Object.keys(d).sort(), [...FIELDS].sort(), rule);
    assert.is(d.rule, rule);
    const want = { learningRate: 0.05, momentum: 0, rho: 0, beta1: 0, beta2: 0, epsilon: 0, ...UPDATE_DEFAULTS[rule] };
    for (const f of FIELDS.slice(1)) assert.is(d[f], want[f], `${rule}.${f}`);
    assert.ok(Object.isFrozen(d));
    assert.is(updates.checkUpdateDescriptor(d), d);
  }
});

U('options override the defaults', () => {
  assert.equal({ ...updates.nesterovMomentum({ learningRate: 0.01, momentum: 0.5 }) }, { rule: 'nesterov_momentum', learningRate: 0.01, momentum: 0.5, rho: 0, beta1: 0, beta2: 0, epsilon: 0 });
  assert.equal({ ...updates.adam({ learningRate: 0.01, beta1: 0.8, beta2: 0.99, epsilon: 1e-7 }) }, { rule: 'adam', learningRate: 0.01, momentum: 0, rho: 0, beta1: 0.8, beta2: 0.99, epsilon: 1e-7 });
  assert.is(updates.rmsprop({ rho: 0.5 }).rho, 0.5);
  assert.is(updates.adadelta().rho, 0.95);
  assert.is(updates.adamax().learningRate, 0.002);
});

U('sgd, momentum and nesterovMomentum require learningRate, as Lasagne', () => {
  throwsWith(() => updates.sgd(), TypeError, "sgd() missing 1 required option: 'learningRate'");
  throwsWith(() => updates.momentum({ momentum: 0.9 }), TypeError, "momentum() missing 1 required option: 'learningRate'");
  throwsWith(() => updates.nesterovMomentum({}), TypeError, "nesterovMomentum() missing 1 required option: 'learningRate'");
});

U('bad values name the rule, the option and the value; unknown options suggest the right key', () => {
  throwsWith(() => updates.sgd({ learningRate: -0.1 }), ValueError, 'sgd requires learningRate >= 0, but learningRate=-0.1');
  throwsWith(() => updates.momentum({ learningRate: 0.1, momentum: 1.5 }), ValueError, 'momentum requires 0 <= momentum <= 1, but momentum=1.5');
  throwsWith(() => updates.adam({ beta2: -1 }), ValueError, 'adam requires 0 <= beta2 <= 1, but beta2=-1');
  throwsWith(() => updates.rmsprop({ epsilon: -1e-6 }), ValueError, 'rmsprop requires epsilon >= 0');
  throwsWith(() => updates.adagrad({ learningRate: NaN }), TypeError, "adagrad option 'learningRate' must be a finite number");
  throwsWith(() => updates.adagrad({ learningRate: '1' }), TypeError, "option 'learningRate'");
  throwsWith(() => updates.sgd({ learning_rate: 0.1 }), TypeError, "unknown option 'learning_rate' for sgd; did you mean 'learningRate'?");
  throwsWith(() => updates.sgd({ learningRate: 0.1, momentum: 0.9 }), TypeError, "unknown option 'momentum' for sgd");
  throwsWith(() => updates.adam({ rho: 0.9 }), TypeError, "unknown option 'rho' for adam");
});

U('checkUpdateDescriptor refuses an uncalled update function and hand-made objects with bad values', () => {
  throwsWith(() => updates.checkUpdateDescriptor(updates.adam), TypeError, 'call it with its options');
  throwsWith(() => updates.checkUpdateDescriptor({ rule: 'lbfgs' }), TypeError, 'updates must be a descriptor');
  throwsWith(() => updates.checkUpdateDescriptor({ rule: 'sgd', learningRate: 0.1, momentum: 2, rho: 0, beta1: 0, beta2: 0, epsilon: 0 }), ValueError, 'momentum=2');
});

U.run();
