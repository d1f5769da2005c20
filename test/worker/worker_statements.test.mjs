// Every worker the library starts is created in the one statement bundlers recognise (Vite and
// webpack rewrite it and bundle the script; esbuild users emit it as an entry point next to the
// bundle): `new Worker(new URL('./x.js', import.meta.url), { type: 'module' })`, with x.ts beside it.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const src = fileURLToPath(new URL('../../src', import.meta.url));
const statements = suite('worker creation');

function files(dir) {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

statements('every new Worker(...) in src/ is the one-statement module-worker form, naming a script that exists', () => {
  const ONE = /new Worker\(new URL\('\.\/([a-z_]+)\.js', import\.meta\.url\), \{ type: 'module' \}\)/g;
  const found = [];
  for (const file of files(src)) {
    const text = readFileSync(file, 'utf8').replace(/^\s*(\/\/|\/?\*).*$/gm, '');   // not in comments
    const all = text.match(/new Worker\b/g) ?? [];
    const good = [...text.matchAll(ONE)];
    assert.is(good.length, all.length, `${relative(src, file)}: ${all.length - good.length} worker(s) not created in the one-statement form`);
    for (const m of good) {
      assert.ok(existsSync(join(dirname(file), `${m[1]}.ts`)), `${relative(src, file)}: ./${m[1]}.js has no source beside it`);
      found.push(`${relative(src, dirname(file))}/${m[1]}`);
    }
  }
  // the WASM backend's thread pool and spawnWorker's pool
  assert.equal(found.sort(), ['backend/wasm/worker', 'worker/inference_worker']);
});

statements.run();
