"""cuDNN's backward convolutions (through PyTorch) on the training rows of
../shared/reference/performance.md: for L1-L5, C1-C3 (conv) and N1 (1x1, 192 -> 160) at batch 128,
the input gradient (dX) and the weight gradient (dW) of a conv without bias, fp32, TF32 off,
cudnn.benchmark on (cuDNN picks its fastest algorithm: FFT and Winograd for many of these), each
timed back to back (many calls between two CUDA events) and by CUDA-graph replay, the faster kept
(scripts/bench_cudnn.py Timer). Calls aten.convolution_backward with one output asked for, what
torch.nn.grad.conv2d_input / conv2d_weight call.

Prints a table and, with --json, a last line 'JSON {...}': per id dx_ms, dw_ms, dxdw_ms (both in one
call, as autograd asks), flops (of one direction, 2 B F OH OW C k^2), and with --kernels the CUDA
kernels each ran (the algorithm, by name). scripts/bench_backward.mjs runs this and joins it.

  python3 scripts/bench_backward_cudnn.py [--json] [--batch 128] [--only L1,N1] [--kernels] [--smoke]
  --smoke: batch 4, C1-C3 and N1, few calls; the CPU when there is no CUDA device (a check of the script).
On the H200: about 20 s.
"""
import argparse
import json
import os
import sys

import torch

sys.dont_write_bytecode = True  # no scripts/__pycache__ from importing bench_cudnn
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_cudnn import Timer, device_header, setup_torch  # noqa: E402

# id: (C, H, W, filters, size, stride, pad), as bench_cudnn.py
ROWS = {
    'L1': (3, 128, 128, 96, 11, 1, 0), 'L2': (64, 64, 64, 128, 9, 1, 0),
    'L3': (128, 32, 32, 128, 9, 1, 0), 'L4': (128, 16, 16, 128, 7, 1, 0),
    'L5': (384, 13, 13, 384, 3, 1, 0), 'C1': (3, 32, 32, 32, 5, 1, 2),
    'C2': (32, 16, 16, 32, 5, 1, 2), 'C3': (32, 8, 8, 64, 5, 1, 2),
    'N1': (192, 32, 32, 160, 1, 1, 0),
}
SMOKE = ['C1', 'C2', 'C3', 'N1']


def conv_backward(dy, x, w, s, p, mask):
    return torch.ops.aten.convolution_backward(dy, x, w, None, [s, s], [p, p], [1, 1], False, [0, 0], 1, mask)


def kernels_of(fn, device):
    """Names of the CUDA kernels one call launches (torch.profiler), or None off the GPU."""
    if device.type != 'cuda':
        return None
    try:
        from torch.profiler import ProfilerActivity, profile
        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            fn()
            torch.cuda.synchronize()
        names = [e.key for e in prof.key_averages() if e.device_type.name == 'CUDA' or getattr(e, 'self_cuda_time_total', 0) > 0]
        return [n[:90] for n in names][:6]
    except Exception as e:
        return [f'profiler failed: {str(e).splitlines()[0][:80]}']


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--json', action='store_true')
    ap.add_argument('--batch', type=int, default=None)
    ap.add_argument('--only', default=None)
    ap.add_argument('--kernels', action='store_true', help='name the CUDA kernels of each call (torch.profiler)')
    ap.add_argument('--smoke', action='store_true')
    args = ap.parse_args()
    device = setup_torch()
    batch = args.batch or (4 if args.smoke else 128)
    ids = args.only.split(',') if args.only else (SMOKE if args.smoke else list(ROWS))
    unknown = [i for i in ids if i not in ROWS]
    if unknown:
        ap.error(f'--only names unknown rows {unknown}; known: {",".join(ROWS)}')
    timer = Timer(device, smoke=args.smoke)
    rows = {}
    for rid in ids:
        c, h, w, f, k, s, p = ROWS[rid]
        oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
        x = torch.randn(batch, c, h, w, device=device)
        wt = 0.1 * torch.randn(f, c, k, k, device=device)
        dy = torch.randn(batch, f, oh, ow, device=device)
        dx_fn = (lambda: conv_backward(dy, x, wt, s, p, [True, False, False]))
        dw_fn = (lambda: conv_backward(dy, x, wt, s, p, [False, True, False]))
        both_fn = (lambda: conv_backward(dy, x, wt, s, p, [True, True, False]))
        dx_ms, dx_info = timer.best(dx_fn)
        dw_ms, dw_info = timer.best(dw_fn)
        both_ms, _ = timer.best(both_fn)
        flops = 2.0 * batch * f * oh * ow * c * k * k
        rows[rid] = {'dx_ms': dx_ms, 'dw_ms': dw_ms, 'dxdw_ms': both_ms, 'flops': flops, 'timing': {'dx': dx_info, 'dw': dw_info}}
        if args.kernels:
            rows[rid]['dx_kernels'] = kernels_of(dx_fn, device)
            rows[rid]['dw_kernels'] = kernels_of(dw_fn, device)
        del x, wt, dy
    name, cudnn, header = device_header(device)
    print(header)
    print(f"batch {batch}, fp32, TF32 off, cudnn.benchmark; per call, the faster of back to back and CUDA-graph replay")
    print(f"{'id':4s} {'dX ms':>9s} {'dW ms':>9s} {'dX+dW ms':>9s}  'TFLOPS' as direct conv (dX, dW)")
    for rid, r in rows.items():
        print(f"{rid:4s} {r['dx_ms']:9.4f} {r['dw_ms']:9.4f} {r['dxdw_ms']:9.4f}  {r['flops'] / r['dx_ms'] / 1e9:.1f}, {r['flops'] / r['dw_ms'] / 1e9:.1f}")
        if args.kernels:
            print(f"     dX kernels: {r['dx_kernels']}\n     dW kernels: {r['dw_kernels']}")
    if args.json:
        print('JSON ' + json.dumps({**rows, '_meta': {'device': name, 'torch': torch.__version__, 'cudnn': cudnn, 'batch': batch}}))


if __name__ == '__main__':
    main()
