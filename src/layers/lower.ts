/**
 * The contract between a layer and the compiler (src/compile/plan.ts): a layer lowers itself into
 * kernel steps through a LowerContext, the counterpart of Lasagne's `get_output_for`. The compiler
 * owns tensors, axis rotations, transposes and their elision; the layer owns its shapes, its checks
 * and its steps. Nothing here imports the compiler.
 */
import type { StepSpec, WeightGradientPlan } from '../ops/steps.js';
import type { ParamSource } from '../ops/plan.js';

/**
 * A rotation of a 4-D tensor's axes: form r of x is `x.transpose([(i + r) % 4 for i])`.
 * bc01 -> c01b is r = 1 (`dimshuffle(1, 2, 3, 0)`); c01b -> bc01 is r = 3 (`dimshuffle(3, 0, 1, 2)`).
 */
export type Rotation = 0 | 1 | 2 | 3;

/** A tensor of the plan: its id and its concrete shape (in the rotation asked for). */
export interface TensorRef {
  id: number;
  shape: number[];
}

export interface LowerContext {
  /** The layer as plans, profiles and messages name it: its name, or `<index>:<Class>`. */
  readonly label: string;
  /** The concrete shape of the input (as the input layer declares it; null for InputLayer). */
  readonly inputShape: number[] | null;
  /** The concrete shape of this layer's output, as it declares it. */
  readonly outputShape: number[];
  /** Whether the gradient is planned too (`plan(net, { training: true })`). */
  readonly training: boolean;
  /** The tensor holding rotation r (default 0) of the input layer's output; transposes are emitted as needed. */
  input(r?: Rotation): TensorRef;
  /** A new tensor for rotation r (default 0) of this layer's output. */
  output(r?: Rotation): TensorRef;
  /**
   * This layer's output is rotation r of its input (the shuffle layers). No step unless the
   * compiler keeps every layer's own copy (`elide: false`); otherwise consumers read the input's
   * rotation directly and inverse transposes cancel.
   */
  rotationOfInput(r: Rotation): void;
  /** Index of a parameter in the plan's params; -1 for null. */
  param(p: ParamSource | null): number;
  /** Appends a kernel step computing (part of) this layer. */
  emit(step: StepSpec): void;
  /** Records a conv layer's weight-gradient partial sums (when `training`). */
  weightGradient(g: Omit<WeightGradientPlan, 'layer'>): void;
}
