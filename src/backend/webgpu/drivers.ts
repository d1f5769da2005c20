/**
 * Whether the Vulkan loader would find a driver (an ICD manifest), so that Node does not load Dawn
 * on a Linux machine without one: Dawn then finds no adapter anyway and the Vulkan loader prints
 * "vkCreateInstance: Found no drivers!" on stderr, which users of the WASM fallback should never
 * see. Only Linux and the BSDs are checked (Dawn uses Metal on macOS and D3D12 on Windows).
 *
 * The places are the loader's (LoaderDriverInterface.md, "Driver Discovery on Linux"):
 * `VK_DRIVER_FILES` / `VK_ICD_FILENAMES` when set (files or folders, ':'-separated; then only those)
 * plus `VK_ADD_DRIVER_FILES`; otherwise `vulkan/icd.d` under $XDG_CONFIG_HOME, $XDG_CONFIG_DIRS,
 * /etc, /usr/local/etc, $XDG_DATA_HOME and $XDG_DATA_DIRS (with their defaults).
 */

interface FsLike {
  statSync(path: string, options: { throwIfNoEntry: false }): { isFile(): boolean; isDirectory(): boolean } | undefined;
  readdirSync(path: string): string[];
}

/** The manifest paths and folders the Vulkan loader reads for this environment. */
export function vulkanDriverPlaces(env: Record<string, string | undefined>, home: string): { files: string[]; folders: string[] } {
  const split = (v: string | undefined) => (v ?? '').split(':').filter((p) => p !== '');
  const explicit = split(env.VK_DRIVER_FILES ?? env.VK_ICD_FILENAMES);
  const added = split(env.VK_ADD_DRIVER_FILES);
  if (explicit.length > 0) return { files: [...explicit, ...added], folders: [] };
  const configHome = env.XDG_CONFIG_HOME || `${home}/.config`;
  const configDirs = split(env.XDG_CONFIG_DIRS || '/etc/xdg');
  const dataHome = env.XDG_DATA_HOME || `${home}/.local/share`;
  const dataDirs = split(env.XDG_DATA_DIRS || '/usr/local/share:/usr/share');
  const bases = [configHome, ...configDirs, '/etc', '/usr/local/etc', dataHome, ...dataDirs];
  return { files: added, folders: bases.map((b) => `${b}/vulkan/icd.d`) };
}

/** Whether any place holds a driver manifest: a listed file or folder that exists, or a folder with a .json file. */
export function anyVulkanDriver(fs: FsLike, places: { files: string[]; folders: string[] }): boolean {
  for (const f of places.files) {
    try {
      const st = fs.statSync(f, { throwIfNoEntry: false });
      if (st?.isFile()) return true;
      if (st?.isDirectory() && fs.readdirSync(f).some((n) => n.endsWith('.json'))) return true;
    } catch {
      // unreadable: not a driver the loader can use either
    }
  }
  for (const d of places.folders) {
    try {
      if (fs.readdirSync(d).some((n) => n.endsWith('.json'))) return true;
    } catch {
      // absent
    }
  }
  return false;
}

/** False only on Linux/BSD when no Vulkan driver manifest exists; true elsewhere or when unsure. */
export async function hasVulkanDriver(): Promise<boolean> {
  const proc = (globalThis as { process?: { platform?: string; env?: Record<string, string | undefined> } }).process;
  const platform = proc?.platform;
  if (platform !== 'linux' && platform !== 'freebsd' && platform !== 'openbsd' && platform !== 'netbsd') return true;
  try {
    // variable specifiers: bundlers for the browser leave Node's modules alone
    const fsName = 'node:fs';
    const osName = 'node:os';
    const fs = (await import(/* @vite-ignore */ fsName)) as FsLike;
    const os = (await import(/* @vite-ignore */ osName)) as { homedir(): string };
    return anyVulkanDriver(fs, vulkanDriverPlaces(proc?.env ?? {}, os.homedir()));
  } catch {
    return true;
  }
}
