/**
 * How the TypeScript glue declares a WebAssembly module's interface: every export's name and its
 * WebAssembly parameter and result types. scripts/check_glue.mjs compares each declaration
 * (src/planner/planner_abi.ts, src/backend/wasm/kernels_abi.ts) with the compiled module at build
 * time, so a renamed or re-typed export fails the build rather than a user.
 */
export type WasmValueType = 'i32' | 'i64' | 'f32' | 'f64';
export type FunctionSignature = readonly [params: readonly WasmValueType[], results: readonly WasmValueType[]];

export interface ModuleAbi {
  /** Exported functions by name. */
  readonly functions: Readonly<Record<string, FunctionSignature>>;
  /** Exported memories by name. */
  readonly memories: readonly string[];
  /** Imports as "module.name". */
  readonly imports: readonly string[];
}

/**
 * A module's exported memory as the glue uses it: what `WebAssembly.Memory` has, declared here so
 * that the published declarations need no `WebAssembly` namespace (absent from lib ES2022 without
 * the DOM lib).
 */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(delta: number): number;
}
