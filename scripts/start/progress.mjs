// Training progress for npm start: per epoch, a bar with images/s, the running loss and the ETA;
// after each epoch one line with the validation accuracy.
//   terminal (TTY):  one line redrawn in place ('\r', erase to the end of line), at most every
//                    `redrawMs`, cut to the terminal's width so it never wraps;
//   log (not a TTY): a plain line each time another `logPercent` per cent is done, no control codes.

const ERASE_LINE_END = '\x1b[K';

/** Seconds as m:ss, or h:mm:ss from an hour up. */
export function formatDuration(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** An images/s figure with a sensible number of digits. */
function formatRate(rate) {
  if (!Number.isFinite(rate)) return '?';
  return rate >= 100 ? rate.toFixed(0) : rate >= 10 ? rate.toFixed(1) : rate.toFixed(2);
}

export class Progress {
  /**
   * @param {object} [options]
   * @param {{ write(s: string): unknown, isTTY?: boolean, columns?: number }} [options.stream] where it
   *   writes (default process.stdout)
   * @param {() => number} [options.now] a clock in milliseconds (default performance.now)
   * @param {boolean} [options.tty] redraw one line (default: the stream is a TTY and TERM is not 'dumb')
   * @param {number} [options.logPercent] not a TTY: a line per this many per cent (default 5)
   * @param {number} [options.redrawMs] a TTY: the least time between redraws (default 100)
   */
  constructor({ stream = process.stdout, now = () => performance.now(), tty = stream.isTTY === true && process.env.TERM !== 'dumb', logPercent = 5, redrawMs = 100 } = {}) {
    this.stream = stream;
    this.now = now;
    this.tty = tty;
    this.logPercent = logPercent;
    this.redrawMs = redrawMs;
    this.epoch = null;
  }

  /** Begins epoch `epoch` (1-based) of `epochs`, which goes over `total` images. */
  startEpoch(epoch, epochs, total) {
    if (!(Number.isInteger(total) && total > 0)) throw new RangeError(`Progress.startEpoch: total must be a positive integer, but got ${total}`);
    this.epoch = { epoch, epochs, total, start: this.now(), done: 0, lossSum: 0, lossCount: 0, nextLog: this.logPercent, lastDraw: -Infinity };
  }

  /**
   * `done` images of this epoch are now trained, the last `done - previous done` of them with mean
   * loss `loss`. The running loss is the mean over all the epoch's images so far. Without `loss`
   * (classifying a test set, say) the line has no loss figure.
   */
  update(done, loss = null) {
    const e = this.epoch;
    if (e === null) throw new Error('Progress.update before startEpoch');
    if (!(Number.isInteger(done) && done > e.done && done <= e.total)) {
      throw new RangeError(`Progress.update: done must grow from ${e.done} up to ${e.total}, but got ${done}`);
    }
    if (loss !== null) {
      e.lossSum += loss * (done - e.done);
      e.lossCount += done - e.done;
    }
    e.done = done;
    const t = this.now();
    if (this.tty) {
      if (t - e.lastDraw >= this.redrawMs || done === e.total) {
        e.lastDraw = t;
        this.stream.write(`\r${this.fit(this.line(t, true))}${ERASE_LINE_END}`);
      }
    } else if ((100 * done) / e.total >= e.nextLog) {
      while (e.nextLog <= (100 * done) / e.total) e.nextLog += this.logPercent;
      this.stream.write(`${this.line(t, false)}\n`);
    }
  }

  /**
   * Ends the epoch with its summary line: time, images/s, training loss and, when given, the
   * validation loss and accuracy (a fraction in [0, 1]). Returns the epoch's numbers.
   */
  endEpoch({ validationAccuracy = null, validationLoss = null } = {}) {
    const e = this.epoch;
    if (e === null) throw new Error('Progress.endEpoch before startEpoch');
    const seconds = (this.now() - e.start) / 1000;
    const trainLoss = e.lossCount ? e.lossSum / e.lossCount : null;
    const parts = [`epoch ${this.counter(e)}`, `${e.done} images in ${seconds.toFixed(1)} s (${formatRate(e.done / seconds)} images/s)`];
    if (trainLoss !== null) parts.push(`training loss ${trainLoss.toFixed(4)}`);
    if (validationLoss !== null) parts.push(`validation loss ${validationLoss.toFixed(4)}`);
    if (validationAccuracy !== null) parts.push(`validation accuracy ${(100 * validationAccuracy).toFixed(2)}%`);
    this.stream.write(`${this.tty ? `\r${ERASE_LINE_END}` : ''}${parts.join('  ')}\n`);
    this.epoch = null;
    return { epoch: e.epoch, seconds, images: e.done, trainLoss, validationAccuracy, validationLoss };
  }

  counter(e) {
    return `${String(e.epoch).padStart(String(e.epochs).length)}/${e.epochs}`;
  }

  /** The progress line at time t; with a bar on a terminal. */
  line(t, withBar) {
    const e = this.epoch;
    const seconds = (t - e.start) / 1000;
    const rate = e.done / seconds;
    const pct = `${String(Math.floor((100 * e.done) / e.total)).padStart(3)}%`;
    const count = `${String(e.done).padStart(String(e.total).length)}/${e.total}`;
    const eta = e.done === e.total ? `done in ${formatDuration(seconds)}` : `ETA ${formatDuration((e.total - e.done) / rate)}`;
    const loss = e.lossCount ? `  loss ${(e.lossSum / e.lossCount).toFixed(4)}` : '';
    const tail = `${pct} ${count}  ${formatRate(rate)} img/s${loss}  ${eta}`;
    const head = `epoch ${this.counter(e)}`;
    if (!withBar) return `${head}  ${tail}`;
    // The bar's width depends only on the terminal and the epoch, not on the changing figures, so
    // it does not jump; 60 columns hold the figures of a 60000-image epoch.
    const columns = this.stream.columns ?? 80;
    // Figures before the bar: a terminal without room for a 10-column bar gets none.
    const width = Math.min(30, columns - 1 - head.length - 3 - 60);
    if (width < 10) return `${head}  ${tail}`;
    const filled = Math.floor((width * e.done) / e.total);
    return `${head} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${tail}`;
  }

  /** A terminal line cut to the terminal's width (one column spare, so it never wraps). */
  fit(s) {
    const columns = this.stream.columns ?? 80;
    return s.length < columns ? s : s.slice(0, Math.max(1, columns - 1));
  }
}
