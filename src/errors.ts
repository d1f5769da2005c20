/**
 * Error classes mirroring the Python exceptions Lasagne raises. Type mistakes use the built-in
 * `TypeError`, exactly where Lasagne raises `TypeError`.
 */
export class LasagneError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Python's `ValueError`: a value of the right type that breaks a rule (shape, range, length). */
export class ValueError extends LasagneError {}

/** Python's `RuntimeError`: Lasagne uses it for the limits of the cuda-convnet kernels. */
export class RuntimeError extends LasagneError {}

/** Python's `NotImplementedError`: an option Lasagne declares but does not support. */
export class NotImplementedError extends LasagneError {}
