"""cuDNN (through PyTorch) on the forward benchmark set of ../shared/reference/performance.md, timed
honestly: fp32 with TF32 off, cudnn.benchmark on, every variant timed BACK TO BACK (many calls
between two CUDA events, so the GPU never waits for the host) and, where CUDA graphs work, by
replaying a graph of many calls; the faster of the two is reported. Never one call between two
synchronizations (that measures launch latency: C1 0.048-0.056 ms that way, 0.034 back to back).

Per conv row (batch 128; NCHW and, with --nhwc, also channels_last):
  conv      cuDNN's convolution alone (no bias, no activation)
  unfused   conv + bias + ReLU as PyTorch runs F.relu(F.conv2d(x, w, b)): cuDNN conv, then bias
            add and ReLU kernels
  fused     cuDNN's fused conv + bias + ReLU (torch.cudnn_convolution_relu); 'n/a' with the reason
            when this PyTorch or device has none
  ms        the fastest of unfused and fused over the layouts: the same work as our fused
            filter_acts (conv + tied bias + rectify). This is what "cuDNN / ours" compares with.
N1 is the 1x1 conv (192 -> 160) with bias and ReLU, as our NIN step. P1: F.max_pool2d 3/2
(ceil_mode, cuda-convnet's grid). copy: a device copy_ of 1 GiB (read + write bytes / s), the
yardstick for pooling. NET: the cuda-convnet CIFAR-10 network, back to back.

Output: a table, and with --json a last line 'JSON {...}' whose rows are keyed by id: every row
has `ms` (scripts/bench_webgpu.mjs --cudnn FILE joins it with ours), conv rows also conv_ms,
unfused_ms, fused_ms (null when not available), best ('unfused' | 'fused'), layout, tflops; copy
has gbs. The first line is 'device: NAME  torch V  cudnn V'.

  python3 scripts/bench_cudnn.py [--json] [--only L1,C2] [--batch 128] [--nhwc] [--smoke]
  --smoke: tiny batch (4), C1-C3, N1, P1 only, few repetitions; runs on the CPU when there is no
           CUDA device (fused and graph timings then say n/a): checks the script, not cuDNN.
On the H200: python3 scripts/bench_cudnn.py --json > cudnn.txt   (about 40 s)
"""
import argparse
import json
import math
import time

import torch
import torch.nn.functional as F

# id: (C, H, W, filters, size, stride, pad)
CONVS = {
    'L1': (3, 128, 128, 96, 11, 1, 0), 'L2': (64, 64, 64, 128, 9, 1, 0),
    'L3': (128, 32, 32, 128, 9, 1, 0), 'L4': (128, 16, 16, 128, 7, 1, 0),
    'L5': (384, 13, 13, 384, 3, 1, 0), 'C1': (3, 32, 32, 32, 5, 1, 2),
    'C2': (32, 16, 16, 32, 5, 1, 2), 'C3': (32, 8, 8, 64, 5, 1, 2),
    'A1': (3, 224, 224, 96, 11, 4, 0), 'N1': (192, 32, 32, 160, 1, 1, 0),
}
SMOKE_ROWS = ['C1', 'C2', 'C3', 'N1', 'P1']


def device_header(device):
    """The GPU's name (or that this is a CPU smoke run), cuDNN's version, and the report's first line."""
    name = torch.cuda.get_device_name() if device.type == 'cuda' else 'CPU (no CUDA device: a smoke run, not cuDNN)'
    cudnn = torch.backends.cudnn.version() if device.type == 'cuda' else None
    return name, cudnn, f"device: {name}  torch {torch.__version__}  cudnn {cudnn}"


def setup_torch():
    torch.backends.cudnn.benchmark = True
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    return torch.device('cuda') if torch.cuda.is_available() else torch.device('cpu')


def span(body, cuda):
    """Milliseconds body() takes, on the GPU's clock (events) or the wall clock (no CUDA device)."""
    if cuda:
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        body()
        b.record()
        b.synchronize()
        return a.elapsed_time(b)
    t0 = time.perf_counter()
    body()
    return (time.perf_counter() - t0) * 1e3


class Timer:
    """Back-to-back timing (CUDA events around many calls) and CUDA-graph replay; the wall clock on a CPU."""

    def __init__(self, device, target_ms=200.0, smoke=False):
        self.device = device
        self.cuda = device.type == 'cuda'
        self.target_ms = target_ms
        self.smoke = smoke

    def _sync(self):
        if self.cuda:
            torch.cuda.synchronize()

    def _span(self, body):
        return span(body, self.cuda)

    def calls_for(self, fn):
        """How many calls make about target_ms of back-to-back work (the clocks ramp up), 3 to 2000."""
        for _ in range(3):
            fn()
        self._sync()
        one = self._span(lambda: [fn() for _ in range(5)]) / 5
        if self.smoke:
            return 3
        return int(max(3, min(2000, math.ceil(self.target_ms / max(one, 1e-3)))))

    def back_to_back(self, fn, calls=None):
        """Per-call ms of `calls` calls issued back to back, median of 3 rounds."""
        calls = calls or self.calls_for(fn)

        def body():
            for _ in range(calls):
                fn()
        times = sorted(self._span(body) / calls for _ in range(3))
        return times[1], calls

    def graph(self, fn, calls):
        """Per-call ms replaying a CUDA graph of `per` calls (median of 3 rounds), or None and why not."""
        if not self.cuda:
            return None, 'no CUDA device'
        per = max(1, min(calls, 100))
        replays = max(1, calls // per)
        try:
            s = torch.cuda.Stream()
            s.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(s):
                for _ in range(3):
                    fn()
            torch.cuda.current_stream().wait_stream(s)
            g = torch.cuda.CUDAGraph()
            with torch.cuda.graph(g):
                for _ in range(per):
                    fn()
            g.replay()
            torch.cuda.synchronize()

            def body():
                for _ in range(replays):
                    g.replay()
            times = sorted(self._span(body) / (per * replays) for _ in range(3))
            del g
            return times[1], None
        except Exception as e:  # capture can fail for some ops: report back-to-back alone
            torch.cuda.synchronize()
            return None, f'graph capture failed: {str(e).splitlines()[0][:120]}'

    def best(self, fn):
        """min(back to back, graph replay) in ms, and how each went."""
        b2b, calls = self.back_to_back(fn)
        g, why = self.graph(fn, calls)
        ms = b2b if g is None else min(b2b, g)
        return ms, {'b2b_ms': b2b, 'graph_ms': g, 'calls': calls, **({'graph': why} if why else {})}


def fused_op(device):
    """cuDNN's fused conv + bias + ReLU, or None and why."""
    if device.type != 'cuda':
        return None, 'no CUDA device'
    op = getattr(torch, 'cudnn_convolution_relu', None)
    if op is None:
        op = getattr(getattr(torch.ops, 'aten', None), 'cudnn_convolution_relu', None)
    if op is None:
        return None, f'torch {torch.__version__} has no cudnn_convolution_relu'
    return op, None


def conv_row(timer, device, spec, batch, layouts):
    c, h, w, f, k, s, p = spec
    oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    flops = 2.0 * batch * f * oh * ow * c * k * k
    fused, why_not = fused_op(device)
    best = None
    variants = {}
    for layout in layouts:
        fmt = torch.channels_last if layout == 'nhwc' else torch.contiguous_format
        x = torch.randn(batch, c, h, w, device=device).contiguous(memory_format=fmt)
        wt = (0.1 * torch.randn(f, c, k, k, device=device)).contiguous(memory_format=fmt)
        bias = 0.1 * torch.randn(f, device=device)
        conv_ms, conv_info = timer.best(lambda: F.conv2d(x, wt, None, stride=s, padding=p))
        unfused_ms, unfused_info = timer.best(lambda: F.relu(F.conv2d(x, wt, bias, stride=s, padding=p)))
        fused_ms, fused_info = None, {'why': why_not}
        if fused is not None:
            try:
                ref = F.relu(F.conv2d(x, wt, bias, stride=s, padding=p))
                got = fused(x, wt, bias, [s, s], [p, p], [1, 1], 1)
                err = (got - ref).abs().max().item() / max(ref.abs().max().item(), 1e-30)
                if not err < 1e-3:
                    raise RuntimeError(f'fused result differs from conv + bias + relu by {err:.2e} (relative)')
                fused_ms, fused_info = timer.best(lambda: fused(x, wt, bias, [s, s], [p, p], [1, 1], 1))
            except Exception as e:
                torch.cuda.synchronize()
                fused_ms, fused_info = None, {'why': f'failed: {str(e).splitlines()[0][:120]}'}
        v = {'conv_ms': conv_ms, 'unfused_ms': unfused_ms, 'fused_ms': fused_ms,
             'timing': {'conv': conv_info, 'unfused': unfused_info, 'fused': fused_info}}
        variants[layout] = v
        for name, ms in (('unfused', unfused_ms), ('fused', fused_ms)):
            if ms is not None and (best is None or ms < best[0]):
                best = (ms, name, layout)
        del x, wt, bias
    first = variants[layouts[0]]
    conv_best = min(v['conv_ms'] for v in variants.values())
    fused_all = [v['fused_ms'] for v in variants.values() if v['fused_ms'] is not None]
    unfused_best = min(v['unfused_ms'] for v in variants.values())
    return {
        'ms': best[0], 'best': best[1], 'layout': best[2], 'tflops': flops / best[0] / 1e9,
        'conv_ms': conv_best, 'unfused_ms': unfused_best, 'fused_ms': min(fused_all) if fused_all else None,
        'fused': None if fused_all else first['timing']['fused'].get('why'),
        'conv_tflops': flops / conv_best / 1e9, 'flops': flops, 'variants': variants,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--json', action='store_true', help="print a last line 'JSON {...}' (for bench_webgpu.mjs --cudnn)")
    ap.add_argument('--only', default=None, help='comma-separated ids (L1,...,A1,N1,P1,copy,NET)')
    ap.add_argument('--batch', type=int, default=None)
    ap.add_argument('--nhwc', action='store_true', help='also time channels_last (NHWC) and keep the faster layout')
    ap.add_argument('--smoke', action='store_true', help='tiny sizes, a check of the script (CPU when there is no GPU)')
    args = ap.parse_args()
    device = setup_torch()
    batch = args.batch or (4 if args.smoke else 128)
    only = set(args.only.split(',')) if args.only else (set(SMOKE_ROWS) if args.smoke else None)
    want = (lambda name: only is None or name in only)
    timer = Timer(device, smoke=args.smoke)
    layouts = ['nchw', 'nhwc'] if args.nhwc else ['nchw']
    rows = {}
    for name, spec in CONVS.items():
        if want(name):
            rows[name] = conv_row(timer, device, spec, batch, layouts)
    if want('P1'):
        x = torch.randn(batch, 96, 55, 55, device=device)
        out = F.max_pool2d(x, 3, 2, ceil_mode=True)
        ms, info = timer.best(lambda: F.max_pool2d(x, 3, 2, ceil_mode=True))
        rows['P1'] = {'ms': ms, 'gbs': (x.numel() + out.numel()) * 4 / ms / 1e6, 'timing': info}
        del x, out
    if want('copy'):
        n = (2 if args.smoke else 256) * 2**20  # floats: 1 GiB on the GPU
        big = torch.empty(n, device=device)
        dst = torch.empty_like(big)
        b2b, _ = timer.back_to_back(lambda: dst.copy_(big), calls=3 if args.smoke else 20)
        rows['copy'] = {'ms': b2b, 'gbs': 2 * n * 4 / b2b / 1e6}
        del big, dst
    if want('NET'):
        # the cuda-convnet CIFAR-10 network (conv5x5 pad2 + bias + relu, maxpool 3/2 ceil) x3, 1x1 to 10
        ws = [0.1 * torch.randn(*sh, device=device) for sh in ((32, 3, 5, 5), (32, 32, 5, 5), (64, 32, 5, 5))]
        bs = [0.1 * torch.randn(sh[0], device=device) for sh in ((32,), (32,), (64,))]
        nin = 0.1 * torch.randn(10, 64, 1, 1, device=device)
        xin = torch.randn(batch, 3, 32, 32, device=device)

        def net():
            y = xin
            for wt, b in zip(ws, bs):
                y = F.max_pool2d(F.relu(F.conv2d(y, wt, b, padding=2)), 3, 2, ceil_mode=True)
            return F.conv2d(y, nin)
        ms, info = timer.best(net)
        rows['NET'] = {'ms': ms, 'timing': info}
    name, cudnn, header = device_header(device)
    print(header)
    print(f"batch {batch}, fp32, TF32 off, cudnn.benchmark; per call, the faster of back to back and CUDA-graph replay; layouts {','.join(layouts)}")
    print(f"{'id':5s} {'conv ms':>9s} {'+bias+relu':>10s} {'fused':>9s} {'same work':>10s}  best")
    for rid, r in rows.items():
        if 'conv_ms' in r:
            fused = f"{r['fused_ms']:9.4f}" if r['fused_ms'] is not None else f"{'n/a':>9s}"
            print(f"{rid:5s} {r['conv_ms']:9.4f} {r['unfused_ms']:10.4f} {fused} {r['ms']:10.4f}  {r['best']} {r['layout']}, {r['tflops']:.1f} TFLOPS")
        else:
            extra = f"{r['gbs']:.0f} GB/s" if 'gbs' in r else ''
            print(f"{rid:5s} {r['ms']:9.4f} ms  {extra}")
    fused_why = {r.get('fused') for r in rows.values() if r.get('fused')}
    if fused_why:
        print(f"fused conv + bias + relu not available: {'; '.join(sorted(fused_why))}")
    if args.json:
        print('JSON ' + json.dumps({**rows, '_meta': {'device': name, 'torch': torch.__version__, 'cudnn': cudnn, 'batch': batch, 'layouts': layouts}}))


if __name__ == '__main__':
    main()
