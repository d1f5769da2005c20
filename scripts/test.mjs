// Runs every test/**/*.test.mjs with uvu (after scripts/setup.mjs built everything), shows uvu's
// output, and ends with the plain summary line `N passed, N failed, N skipped`.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const uvu = fileURLToPath(new URL('../node_modules/uvu/bin.js', import.meta.url));
// --no-color: uvu would otherwise set FORCE_COLOR=1 next to our NO_COLOR, and every child Node
// process of a test would warn that one overrides the other
const args = [uvu, 'test', process.argv[2] ?? '\\.test\\.mjs$', '--no-color'];
const env = { ...process.env, NO_COLOR: '1' };
delete env.FORCE_COLOR;
const result = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', env, maxBuffer: 1 << 28 });
process.stdout.write(result.stdout);
process.stderr.write(result.stderr);
// eslint-disable-next-line no-control-regex
const plain = result.stdout.replace(/\x1b\[[0-9;]*m/g, '');
const num = (label) => Number((plain.match(new RegExp(`${label}:\\s+(\\d+)`)) ?? [])[1] ?? NaN);
const [total, passed, skipped] = [num('Total'), num('Passed'), num('Skipped')];
if (Number.isFinite(total)) console.log(`\n${passed} passed, ${total - passed - skipped} failed, ${skipped} skipped`);
process.exit(result.status === 0 && Number.isFinite(total) && total > 0 ? 0 : 1);
