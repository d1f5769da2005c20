/**
 * Error classes mirroring the Python exceptions Lasagne raises. Type mistakes use the built-in
 * `TypeError`, exactly where Lasagne raises `TypeError`.
 *
 * Each class states its own name (`e.name === 'ValueError'`, and the class's own `name`), so the name
 * survives minifiers that rename classes (esbuild, Vite, terser): the stack, `String(e)` and Node's
 * printout say `ValueError: ...` in a minified bundle too.
 */

/** Gives `cls` and its instances the name `name`, whatever a minifier calls the class. */
function named(cls: abstract new (...args: never[]) => Error, name: string): void {
  Object.defineProperty(cls, 'name', { value: name, configurable: true });
  Object.defineProperty(cls.prototype, 'name', { value: name, writable: true, configurable: true, enumerable: false });
}

export class LasagneError extends Error {
  static {
    named(this, 'LasagneError');
  }
}

/** Python's `ValueError`: a value of the right type that breaks a rule (shape, range, length). */
export class ValueError extends LasagneError {
  static {
    named(this, 'ValueError');
  }
}

/** Python's `RuntimeError`: Lasagne uses it for the limits of the cuda-convnet kernels. */
export class RuntimeError extends LasagneError {
  static {
    named(this, 'RuntimeError');
  }
}

/** Python's `NotImplementedError`: an option Lasagne declares but does not support. */
export class NotImplementedError extends LasagneError {
  static {
    named(this, 'NotImplementedError');
  }
}
