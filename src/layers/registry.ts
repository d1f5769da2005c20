/**
 * Registries of the classes and functions that a model file (`layers.toJSON`) names: layer
 * classes, initializers and nonlinearities. Each is registered once, next to its definition, in one
 * line, with the name written into files (given explicitly, because minifiers rename classes) and
 * the attributes that rebuild an instance:
 *
 * ```ts
 * registerLayer('Conv2DCCLayer', Conv2DCCLayer, { args: ['numFilters', 'filterSize'], options: CONV_OPTIONS });
 * registerValue('GlorotUniform', GlorotUniform, { options: ['gain', 'c01b'] });
 * registerValue('rectify', rectify);
 * ```
 *
 * `args` are the required positional arguments after `incoming`, in Lasagne's order; `options` the
 * keys of the final options object. Both name attributes of the instance (Lasagne's attribute
 * names, camelCased), which hold what the constructor accepts back.
 */

// Constructors of layers and initializers take different arguments; the registry only forwards them.
export type AnyClass = new (...args: any[]) => object;

export interface LayerEntry {
  readonly name: string;
  readonly cls: AnyClass;
  /** Attributes passed as positional arguments after `incoming` (or first, without `incoming`). */
  readonly args: readonly string[];
  /** Attributes passed in the options object. */
  readonly options: readonly string[];
  /** false for InputLayer, which has no `incoming` argument. */
  readonly incoming: boolean;
}

export interface ValueEntry {
  readonly name: string;
  /** A class (its instances are written as `{ class, args, options }`) or a plain value such as `rectify`. */
  readonly value: unknown;
  readonly isClass: boolean;
  readonly args: readonly string[];
  readonly options: readonly string[];
}

const layerEntries = new Map<string, LayerEntry>();
const valueEntries = new Map<string, ValueEntry>();

function checkName(name: string, taken: Map<string, unknown>, what: string): void {
  if (typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new TypeError(`register${what}: the name must be an identifier, but got ${String(name)}`);
  }
  if (taken.has(name)) throw new TypeError(`register${what}: '${name}' is already registered`);
}

/** Registers a layer class under `name` for `layers.toJSON` / `layers.fromJSON`. */
export function registerLayer(
  name: string,
  cls: AnyClass,
  spec: { args?: readonly string[]; options?: readonly string[]; incoming?: boolean } = {},
): void {
  checkName(name, layerEntries, 'Layer');
  layerEntries.set(name, { name, cls, args: spec.args ?? [], options: spec.options ?? [], incoming: spec.incoming ?? true });
}

/**
 * Registers an initializer or nonlinearity under `name`: a class with the attributes that rebuild
 * its instances, or a plain value (a function such as `rectify`) written by name.
 */
export function registerValue(name: string, value: unknown, spec?: { args?: readonly string[]; options?: readonly string[] }): void {
  checkName(name, valueEntries, 'Value');
  const isClass = spec !== undefined;
  valueEntries.set(name, { name, value, isClass, args: spec?.args ?? [], options: spec?.options ?? [] });
}

/** The entry of a layer class name, or undefined. */
export function layerEntry(name: string): LayerEntry | undefined {
  return layerEntries.get(name);
}

/** The entry whose class is exactly `cls` (not a subclass: a subclass needs its own entry). */
export function layerEntryOf(cls: unknown): LayerEntry | undefined {
  for (const e of layerEntries.values()) if (e.cls === cls) return e;
  return undefined;
}

export function valueEntry(name: string): ValueEntry | undefined {
  return valueEntries.get(name);
}

/** The class entry whose class is exactly `cls`. */
export function valueClassOf(cls: unknown): ValueEntry | undefined {
  for (const e of valueEntries.values()) if (e.isClass && e.value === cls) return e;
  return undefined;
}

/** The plain-value entry that is `value` itself (by identity). */
export function valueEntryOf(value: unknown): ValueEntry | undefined {
  for (const e of valueEntries.values()) if (!e.isClass && e.value === value) return e;
  return undefined;
}

export function layerNames(): string[] {
  return [...layerEntries.keys()];
}

export function valueNames(): string[] {
  return [...valueEntries.keys()];
}
