import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { formatDuration, Progress } from '../../scripts/start/progress.mjs';

/** A stream that records writes, and a clock the test moves. */
function fakes({ isTTY = false, columns } = {}) {
  const writes = [];
  const clock = { t: 1000 };
  const stream = { isTTY, columns, write: (s) => writes.push(s) };
  return { writes, clock, stream, now: () => clock.t };
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x09\x0b-\x1f\x7f]/;

const progress = suite('Progress');

progress('formatDuration: m:ss below an hour, h:mm:ss from an hour, ? when unknown', () => {
  assert.is(formatDuration(0), '0:00');
  assert.is(formatDuration(59.4), '0:59');
  assert.is(formatDuration(61), '1:01');
  assert.is(formatDuration(3600 + 62), '1:01:02');
  assert.is(formatDuration(Infinity), '?');
  assert.is(formatDuration(NaN), '?');
});

progress('not a TTY: one plain line per 5 per cent, with images/s, running loss and ETA, and the epoch line', () => {
  const { writes, clock, stream, now } = fakes();
  const p = new Progress({ stream, now });
  assert.is(p.tty, false);
  p.startEpoch(2, 3, 1000);
  // 10 images per 10 ms: 1000 images/s; loss of batch k is k, so the running mean after k batches is (k + 1) / 2
  for (let k = 1; k <= 100; k++) {
    clock.t += 10;
    p.update(10 * k, k);
  }
  const lines = writes.join('').split('\n');
  assert.is(lines.pop(), '');
  assert.is(lines.length, 20);
  for (const l of lines) assert.not.ok(CONTROL.test(l), JSON.stringify(l));
  assert.is(lines[9], 'epoch 2/3   50%  500/1000  1000 img/s  loss 25.5000  ETA 0:01');
  assert.is(lines[19], 'epoch 2/3  100% 1000/1000  1000 img/s  loss 50.5000  done in 0:01');
  clock.t += 500;
  const summary = p.endEpoch({ validationAccuracy: 0.87355, validationLoss: 0.35 });
  assert.is(writes.at(-1), 'epoch 2/3  1000 images in 1.5 s (667 images/s)  training loss 50.5000  validation loss 0.3500  validation accuracy 87.36%\n');
  assert.equal(summary, { epoch: 2, seconds: 1.5, images: 1000, trainLoss: 50.5, validationAccuracy: 0.87355, validationLoss: 0.35 });
});

progress('not a TTY: batches larger than the step give one line each, never two for one update', () => {
  const { writes, clock, stream, now } = fakes();
  const p = new Progress({ stream, now });
  p.startEpoch(1, 1, 100);
  for (const done of [30, 60, 100]) {
    clock.t += 1000;
    p.update(done, 1);
  }
  assert.equal(writes.map((w) => w.slice(0, 16)), ['epoch 1/1   30% ', 'epoch 1/1   60% ', 'epoch 1/1  100% ']);
  assert.match(writes[0], /30\/100  30\.0 img\/s  loss 1\.0000  ETA 0:02\n$/);
});

progress('a TTY: one line redrawn in place, at most every 100 ms, never wider than the terminal; the last state always drawn', () => {
  const { writes, clock, stream, now } = fakes({ isTTY: true, columns: 100 });
  const p = new Progress({ stream, now });
  assert.is(p.tty, true);
  p.startEpoch(1, 10, 60000);
  for (let done = 60; done <= 60000; done += 60) {
    clock.t += 10;
    p.update(done, 0.5);
  }
  // 1000 updates 10 ms apart: the first, every 10th after it (100 ms), and the last
  assert.is(writes.length, 101);
  for (const w of writes) {
    assert.ok(w.startsWith('\r') && w.endsWith('\x1b[K'), JSON.stringify(w));
    assert.not.ok(w.includes('\n'));
    assert.ok(w.length - 4 < 100, `${w.length - 4} columns: ${JSON.stringify(w)}`);
  }
  assert.match(writes.at(-1), /^\repoch  1\/10 \[#+\] 100% 60000\/60000  6000 img\/s  loss 0\.5000  done in 0:10\x1b\[K$/);
  assert.match(writes[50], /^\repoch  1\/10 \[#{12}\.{13}\]  50% 30060\/60000  /);
  p.endEpoch({ validationAccuracy: 0.5 });
  assert.match(writes.at(-1), /^\r\x1b\[Kepoch  1\/10  60000 images in 10\.0 s \(6000 images\/s\)  training loss 0\.5000  validation accuracy 50\.00%\n$/);
});

progress('a TTY without room for a bar shows the figures only; narrower still, the line is cut, not wrapped; a wide one gets a 30-column bar', () => {
  const medium = fakes({ isTTY: true, columns: 72 });
  const m = new Progress({ stream: medium.stream, now: medium.now });
  m.startEpoch(1, 10, 60000);
  medium.clock.t += 10000;
  m.update(60000, 1);
  assert.is(medium.writes[0], '\repoch  1/10  100% 60000/60000  6000 img/s  loss 1.0000  done in 0:10\x1b[K');
  const narrow = fakes({ isTTY: true, columns: 40 });
  const p = new Progress({ stream: narrow.stream, now: narrow.now });
  p.startEpoch(1, 1, 10);
  narrow.clock.t += 1000;
  p.update(5, 1);
  assert.is(narrow.writes[0].length, 1 + 39 + 3);
  const wide = fakes({ isTTY: true, columns: 200 });
  const q = new Progress({ stream: wide.stream, now: wide.now });
  q.startEpoch(1, 1, 10);
  wide.clock.t += 1000;
  q.update(5, 1);
  assert.match(wide.writes[0], /\[#{15}\.{15}\]/);
});

progress('tty can be forced either way, and TERM=dumb is not a TTY', () => {
  assert.is(new Progress({ stream: { isTTY: true, write() {} }, tty: false }).tty, false);
  assert.is(new Progress({ stream: { write() {} }, tty: true }).tty, true);
  const term = process.env.TERM;
  process.env.TERM = 'dumb';
  try {
    assert.is(new Progress({ stream: { isTTY: true, write() {} } }).tty, false);
  } finally {
    if (term === undefined) delete process.env.TERM;
    else process.env.TERM = term;
  }
});

progress('without losses (classifying a test set) the lines have no loss figure', () => {
  const { writes, clock, stream, now } = fakes();
  const p = new Progress({ stream, now });
  p.startEpoch(1, 1, 10);
  clock.t += 1000;
  p.update(10);
  const summary = p.endEpoch();
  assert.equal(writes, ['epoch 1/1  100% 10/10  10.0 img/s  done in 0:01\n', 'epoch 1/1  10 images in 1.0 s (10.0 images/s)\n']);
  assert.is(summary.trainLoss, null);
});

progress('misuse is refused: update before startEpoch, done not growing or past total, a bad total', () => {
  const { stream, now } = fakes();
  const p = new Progress({ stream, now });
  assert.throws(() => p.update(1, 0), /before startEpoch/);
  assert.throws(() => p.startEpoch(1, 1, 0), /total must be a positive integer, but got 0/);
  p.startEpoch(1, 1, 10);
  p.update(4, 1);
  assert.throws(() => p.update(4, 1), /done must grow from 4 up to 10, but got 4/);
  assert.throws(() => p.update(11, 1), /but got 11/);
});

progress.run();
