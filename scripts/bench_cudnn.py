"""cuDNN (through PyTorch) on the benchmark set of ../shared/reference/performance.md: forward fp32,
TF32 off, cudnn.benchmark on; CUDA-event time per call, median of repeated runs. Also the device
memory copy bandwidth, the yardstick for max-pooling. Not a test: prints a table (and JSON with --json).
Run on the GPU machine: python3 scripts/bench_cudnn.py
"""
import json
import sys

import torch
import torch.nn.functional as F

torch.backends.cudnn.benchmark = True
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
dev = torch.device('cuda')

# id: (C, H, W, filters, size, stride, pad, batch)
CONVS = {
    'L1': (3, 128, 128, 96, 11, 1, 0, 128), 'L2': (64, 64, 64, 128, 9, 1, 0, 128),
    'L3': (128, 32, 32, 128, 9, 1, 0, 128), 'L4': (128, 16, 16, 128, 7, 1, 0, 128),
    'L5': (384, 13, 13, 384, 3, 1, 0, 128), 'C1': (3, 32, 32, 32, 5, 1, 2, 128),
    'C2': (32, 16, 16, 32, 5, 1, 2, 128), 'C3': (32, 8, 8, 64, 5, 1, 2, 128),
    'A1': (3, 224, 224, 96, 11, 4, 0, 128), 'N1': (192, 32, 32, 160, 1, 1, 0, 128),
}


def timed(fn, reps=50):
    for _ in range(5):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        torch.cuda.synchronize()
        times.append(a.elapsed_time(b))
    times.sort()
    return times[len(times) // 2]


def main():
    rows = {}
    for name, (c, h, w, f, k, s, p, b) in CONVS.items():
        x = torch.randn(b, c, h, w, device=dev)
        wt = torch.randn(f, c, k, k, device=dev)
        bias = torch.randn(f, device=dev)
        ms = timed(lambda: F.relu(F.conv2d(x, wt, bias, stride=s, padding=p)))
        oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
        flops = 2.0 * b * f * oh * ow * c * k * k
        rows[name] = {'ms': ms, 'tflops': flops / ms / 1e9}
    x = torch.randn(128, 96, 55, 55, device=dev)
    ms = timed(lambda: F.max_pool2d(x, 3, 2, ceil_mode=True))
    out = F.max_pool2d(x, 3, 2, ceil_mode=True)
    rows['P1'] = {'ms': ms, 'gbs': (x.numel() + out.numel()) * 4 / ms / 1e6}
    big = torch.empty(256 * 2**20, device=dev)
    dst = torch.empty_like(big)
    ms = timed(lambda: dst.copy_(big), reps=20)
    rows['copy'] = {'ms': ms, 'gbs': 2 * big.numel() * 4 / ms / 1e6}
    # NET: the cuda-convnet CIFAR-10 network (conv5x5 pad2 + relu, maxpool 3/2 ceil) x3, 1x1 to 10
    ws = [torch.randn(32, 3, 5, 5, device=dev), torch.randn(32, 32, 5, 5, device=dev), torch.randn(64, 32, 5, 5, device=dev)]
    nin = torch.randn(10, 64, 1, 1, device=dev)
    xin = torch.randn(128, 3, 32, 32, device=dev)

    def net():
        y = xin
        for wt in ws:
            y = F.max_pool2d(F.relu(F.conv2d(y, wt, padding=2)), 3, 2, ceil_mode=True)
        return F.conv2d(y, nin)
    rows['NET'] = {'ms': timed(net)}
    print(f"device: {torch.cuda.get_device_name()}  torch {torch.__version__}  cudnn {torch.backends.cudnn.version()}")
    for name, r in rows.items():
        extra = f"{r['tflops']:.1f} TFLOPS" if 'tflops' in r else (f"{r['gbs']:.0f} GB/s" if 'gbs' in r else '')
        print(f"{name:5s} {r['ms']:9.3f} ms  {extra}")
    if '--json' in sys.argv:
        print('JSON ' + json.dumps(rows))


if __name__ == '__main__':
    main()
