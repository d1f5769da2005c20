/**
 * The contract between a layer and the compiler (src/compile/plan.ts): a layer lowers itself into
 * kernel steps through a LowerContext, the counterpart of Lasagne's `get_output_for`. The compiler
 * owns tensors, axis rotations, transposes and their elision; the layer owns its shapes, its checks
 * and its steps. Nothing here imports the compiler.
 */
import type { StepSpec, WeightGradientPlan } from '../ops/steps.js';
import type { ParamSource } from '../ops/plan.js';

/**
 * A rotation of a tensor's axes: form r of an n-D x is `x.transpose([(i + r) % n for i])`.
 * bc01 -> c01b is r = 1 (`dimshuffle(1, 2, 3, 0)`); c01b -> bc01 is r = 3 (`dimshuffle(3, 0, 1, 2)`).
 * For any n, r = 1 moves the first (batch) axis last: (N, U) -> (U, N), (N, C, H, W) -> (C, H, W, N),
 * the "batch last" form the kernels compute in. r is taken mod n (for 2-D, 3 is 1).
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
  /** false when the plan computes the training-time pass (dropout active): `compileTraining`. */
  readonly deterministic: boolean;
  /**
   * The batch axis of this layer's output in its declared layout (0 for bc01 and (N, U), 3 for
   * c01b; -1 for none): `outputShape[batchAxis]` is the batch size a step's `batch` field names.
   */
  readonly batchAxis: number;
  /** This layer's position in the network's topological order (a per-layer seed for dropout). */
  readonly index: number;
  /** Rotations of the input that exist already (reading one of them emits no transpose). */
  inputRotations(): Rotation[];
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
  /**
   * This layer's output IS its input (the same tensors, every rotation): an identity layer such as
   * a deterministic DropoutLayer or a linear NonlinearityLayer. No step; consumers read the input's
   * tensors directly. The layer must not call `output()` too.
   */
  aliasInput(): void;
  /**
   * A new intermediate tensor shaped like rotation r (default 0) of this layer's output, with its
   * batch axis, named `<label>#pre` in the plan: for a layer computed in two steps (DenseLayer with
   * softmax: the linear `nin` writes the logits here, the `softmax` step reads them). It lives from
   * the step that writes it to the last step that reads it.
   */
  temp(r?: Rotation): TensorRef;
  /** Index of a parameter in the plan's params; -1 for null. */
  param(p: ParamSource | null): number;
  /** Appends a kernel step computing (part of) this layer. */
  emit(step: StepSpec): void;
  /** Records a conv layer's weight-gradient partial sums (when `training`). */
  weightGradient(g: Omit<WeightGradientPlan, 'layer'>): void;
}
