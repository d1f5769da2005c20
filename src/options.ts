/**
 * Options objects: Lasagne's keyword arguments in TypeScript form. Unknown keys are refused with a
 * suggestion, so a Lasagne habit (`untie_biases`) or a typo never silently does nothing.
 */

function editDistance(a: string, b: string): number {
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length];
}

/** `untie_biases` -> `untiebiases`: compares snake_case and camelCase spellings as equal. */
function fold(key: string): string {
  return key.replace(/_/g, '').toLowerCase();
}

/** The valid key closest to `key`, or null when none is close enough to be a likely intent. */
export function closestKey(key: string, valid: readonly string[]): string | null {
  let best: string | null = null;
  let bestScore = Infinity;
  for (const v of valid) {
    // Same letters up to case and underscores, or an abbreviation (a prefix of 3+ letters), count as exact.
    const prefix = fold(key).length >= 3 && fold(v).startsWith(fold(key));
    const score = fold(v) === fold(key) || prefix ? 0 : editDistance(fold(key), fold(v));
    if (score < bestScore) {
      bestScore = score;
      best = v;
    }
  }
  const limit = Math.max(2, Math.floor(key.length / 3));
  return best !== null && bestScore <= limit ? best : null;
}

/**
 * Whether `x` is a plain object: `{...}` literal, `Object.create(null)`, or a plain object from
 * another realm (a worker, an iframe), whose `Object.prototype` is a different object.
 */
export function isPlainObject(x: object): boolean {
  const proto = Object.getPrototypeOf(x) as object | null;
  if (proto === null || proto === Object.prototype) return true;
  return Object.getPrototypeOf(proto) === null && Object.prototype.toString.call(x) === '[object Object]' &&
    typeof (proto as { constructor?: unknown }).constructor === 'function' && (proto as { constructor: { name: string } }).constructor.name === 'Object';
}

function describeOptions(options: unknown): string {
  if (options === null) return 'null';
  if (Array.isArray(options)) return 'an Array';
  if (typeof options !== 'object') return typeof options;
  const proto = Object.getPrototypeOf(options) as { constructor?: { name?: unknown } } | null;
  const name = proto?.constructor?.name;
  return typeof name === 'string' && name !== '' && name !== 'Object' ? `a ${name}` : 'an object with a prototype other than Object.prototype';
}

/**
 * Checks an options object: `undefined` means `{}`; anything but a plain object (an object literal
 * or `Object.create(null)`; not a Map, a Date, a class instance or an object with another
 * prototype) is a `TypeError`; every own key must be in `valid`. Returns a copy with a null
 * prototype holding only the own enumerable properties, each read once: nothing is ever read
 * through the prototype chain (`Object.prototype.pad = 2` changes no layer) or through a getter
 * that could answer differently later.
 */
export function checkOptions<T extends object>(options: unknown, valid: readonly string[], owner: string): Partial<T> {
  if (options === undefined) return Object.create(null) as Partial<T>;
  if (options === null || typeof options !== 'object' || Array.isArray(options) || !isPlainObject(options)) {
    throw new TypeError(`${owner} options must be an object literal (a plain object such as { name: 'conv1' }), but got ${describeOptions(options)}`);
  }
  if (Object.getOwnPropertySymbols(options).length > 0) {
    throw new TypeError(`${owner} options must have string keys only, but got a symbol key`);
  }
  const keys = Object.keys(options);
  for (const key of keys) {
    if (!valid.includes(key)) {
      const near = closestKey(key, valid);
      throw new TypeError(
        `unknown option '${key}' for ${owner}; ` +
          (near ? `did you mean '${near}'?` : `valid options are ${valid.map((v) => `'${v}'`).join(', ')}`),
      );
    }
  }
  const copy = Object.create(null) as Record<string, unknown>;
  for (const key of keys) copy[key] = (options as Record<string, unknown>)[key];
  return copy as Partial<T>;
}
