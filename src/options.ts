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
 * Checks an options object: `undefined` means `{}`; anything but a plain object is a `TypeError`;
 * every key must be in `valid`. Returns the object typed as `T`.
 */
export function checkOptions<T extends object>(options: unknown, valid: readonly string[], owner: string): Partial<T> {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`${owner} options must be an object, but got ${options === null ? 'null' : Array.isArray(options) ? 'an Array' : typeof options}`);
  }
  for (const key of Object.keys(options)) {
    if (!valid.includes(key)) {
      const near = closestKey(key, valid);
      throw new TypeError(
        `unknown option '${key}' for ${owner}; ` +
          (near ? `did you mean '${near}'?` : `valid options are ${valid.map((v) => `'${v}'`).join(', ')}`),
      );
    }
  }
  return options as Partial<T>;
}
