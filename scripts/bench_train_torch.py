"""PyTorch's side of scripts/bench_train.mjs: the networks of npm start, trained as npm start trains them.

--mode speed: one full training step (forward, loss, backward, update) at batch 128 on random data,
  fp32 with TF32 off, cudnn.benchmark: eager (steps back to back, CUDA events around many of them)
  and the whole step captured as ONE CUDA graph and replayed; images/s for each. Networks:
    fmnist  npm start's classifier of --size (SIZES below; e.g. 'large': conv 32 5x5 pad 2 ReLU,
            max-pool 2, conv 64 5x5 pad 2 ReLU, max-pool 2, dropout 0.25, dense 256 ReLU, dropout 0.5,
            dense 10, softmax)
    cifar   conv 32, pool, conv 32, pool, conv 64, pool (5x5 pad 2 ReLU; max-pool 3 stride 2,
            cuda-convnet's ceil grid), dense 10, softmax
--mode accuracy: trains fmnist of --size (SIZES below, examples/web/model.js's; default large) on
  Fashion-MNIST exactly as `node scripts/start.mjs` does: the last
  5000 training images held out for validation, 55000 trained on in a fresh random order every epoch
  (last partial batch dropped), batch 128, Lasagne's nesterov momentum 0.9 (v = m v - lr g;
  p += m v - lr g), learning rate 0.05 decayed to 0 by a cosine over all steps (set every step),
  loss = mean categorical cross-entropy + l2 (the size's, or --l2) * sum of W^2 over the conv and dense weights (not the
  biases), Glorot-uniform weights (gain sqrt(2) for the ReLU layers, 1 for the output), zero biases;
  then the test accuracy (10000 images, no dropout). One run per seed; images/s over the training
  steps (validation excluded here; npm start's time includes its per-epoch validation).

Prints a table and, with --json, a last line 'JSON {...}'. The first line is 'device: ...'.

  python3 scripts/bench_train_torch.py --mode speed [--size large] [--nets fmnist,cifar] [--batch 128] [--steps 200] [--json]
  python3 scripts/bench_train_torch.py --mode accuracy [--size large] [--l2 L] [--data DIR] [--epochs 10] [--seeds 1,2,3]
          [--limit N] [--test-limit N] [--json]
  --data: the folder with Fashion-MNIST's four .gz IDX files (default $FASHION_MNIST_DIR, else
          /usr/share/datasets/fashion-mnist)
  --smoke: tiny sizes (speed: batch 8, 3 steps; accuracy: 1 epoch on 600 images), CPU if no GPU
On the H200: speed about 15 s; accuracy about 15 s per seed (eager; the data lives on the GPU).
"""
import argparse
import gzip
import json
import math
import os
import struct
import sys
import time

import torch
import torch.nn.functional as F

sys.dont_write_bytecode = True  # no scripts/__pycache__ from importing bench_cudnn
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_cudnn import setup_torch, span  # noqa: E402

DEFAULT_DATA = '/usr/share/datasets/fashion-mnist'


# ---------------------------------------------------------------- the networks
# examples/web/model.js SIZES (npm start's classifier widths and dropout)
SIZES = {
    'small': {'blocks': [[(16, 5)], [(32, 5)]], 'dense': 128, 'drop1': 0.1, 'drop2': 0.25, 'l2': 1e-4},
    'large': {'blocks': [[(32, 5)], [(64, 5)]], 'dense': 256, 'drop1': 0.25, 'drop2': 0.5, 'l2': 5e-4},
    'wide': {'blocks': [[(64, 5)], [(128, 5)]], 'dense': 512, 'drop1': 0.25, 'drop2': 0.5, 'l2': 5e-4},
    'deep': {'blocks': [[(32, 3), (32, 3)], [(64, 3), (64, 3)]], 'dense': 256, 'drop1': 0.25, 'drop2': 0.5, 'l2': 5e-4},
    'deep64': {'blocks': [[(64, 3), (64, 3)], [(128, 3), (128, 3)]], 'dense': 512, 'drop1': 0.25, 'drop2': 0.5, 'l2': 5e-4},
}


def glorot(shape, gain, device, gen):
    """Lasagne's GlorotUniform: U(-a, a), a = gain sqrt(6 / (fan_in + fan_out)) (conv fans times k^2)."""
    if len(shape) == 4:
        fan = (shape[0] + shape[1]) * shape[2] * shape[3]
    else:
        fan = shape[0] + shape[1]
    a = gain * math.sqrt(6.0 / fan)
    return ((torch.rand(*shape, generator=gen, device='cpu') * 2 - 1) * a).to(device)


class Net:
    """Parameters as plain tensors (W regularizable, b not) and a forward function, NCHW."""

    def __init__(self, kind, device, gen, classes=10, size='large'):
        relu = math.sqrt(2.0)
        self.kind = kind
        if kind == 'fmnist':
            self.in_shape = (1, 28, 28)
            s = SIZES[size]
            self.drops = (s['drop1'], s['drop2'])
            self.blocks = []
            specs = []
            c = 1
            for block in s['blocks']:
                names = []
                for f, k in block:
                    names.append(f'conv{len(specs) + 1}')
                    specs.append((names[-1], (f, c, k, k), relu))
                    c = f
                self.blocks.append(names)
            specs += [('fc', (s['dense'], c * 7 * 7), relu), ('out', (classes, s['dense']), 1.0)]
        elif kind == 'cifar':
            self.in_shape = (3, 32, 32)
            specs = [('conv1', (32, 3, 5, 5), relu), ('conv2', (32, 32, 5, 5), relu), ('conv3', (64, 32, 5, 5), relu), ('out', (classes, 64 * 4 * 4), 1.0)]
        else:
            raise ValueError(f'unknown network {kind!r}: fmnist or cifar')
        self.W = {}
        self.b = {}
        for name, shape, gain in specs:
            # dense weights drawn as Lasagne's (num_inputs, num_units), used transposed
            w = glorot(shape if len(shape) == 4 else (shape[1], shape[0]), gain, device, gen)
            self.W[name] = (w if len(shape) == 4 else w.t().contiguous()).requires_grad_()
            self.b[name] = torch.zeros(shape[0], device=device, requires_grad=True)

    def params(self):
        return [*self.W.values(), *self.b.values()]

    def regularizable(self):
        return list(self.W.values())

    def logits(self, x, train):
        W, b = self.W, self.b
        if self.kind == 'fmnist':
            y = x
            for names in self.blocks:
                for name in names:
                    y = F.relu(F.conv2d(y, W[name], b[name], padding=(W[name].shape[2] - 1) // 2))
                y = F.max_pool2d(y, 2, 2)
            y = F.dropout(y.flatten(1), self.drops[0], train)
            y = F.dropout(F.relu(F.linear(y, W['fc'], b['fc'])), self.drops[1], train)
            return F.linear(y, W['out'], b['out'])
        y = x
        for name in ('conv1', 'conv2', 'conv3'):
            y = F.max_pool2d(F.relu(F.conv2d(y, W[name], b[name], padding=2)), 3, 2, ceil_mode=True)
        return F.linear(y.flatten(1), W['out'], b['out'])


class Nesterov:
    """Lasagne's nesterov_momentum: v = m v - lr g; p += m v - lr g (lr a device tensor: graph-safe)."""

    def __init__(self, params, momentum, device):
        self.params = params
        self.m = momentum
        self.v = [torch.zeros_like(p) for p in params]
        self.lr = torch.zeros((), device=device)

    @torch.no_grad()
    def step(self):
        for p, v in zip(self.params, self.v):
            g = p.grad
            v.mul_(self.m).sub_(self.lr * g)
            p.add_(self.m * v - self.lr * g)


def loss_of(net, x, y, l2):
    ce = F.cross_entropy(net.logits(x, True), y)
    return ce + l2 * sum((w * w).sum() for w in net.regularizable())


def train_step(net, opt, x, y, l2):
    for p in net.params():
        p.grad = None
    loss = loss_of(net, x, y, l2)
    loss.backward()
    opt.step()
    return loss


# ---------------------------------------------------------------- speed
def speed(args, device):
    cuda = device.type == 'cuda'
    batch = args.batch or (8 if args.smoke else 128)
    steps = 3 if args.smoke else args.steps
    out = {}
    for kind in args.nets.split(','):
        gen = torch.Generator().manual_seed(1)
        net = Net(kind, device, gen, size=args.size)
        opt = Nesterov(net.params(), 0.9, device)
        opt.lr.fill_(0.01)
        x = torch.rand(batch, *net.in_shape, generator=gen).to(device)
        y = torch.randint(0, 10, (batch,), generator=gen).to(device)

        def timed(body):
            # (bench_cudnn's span, after the work queued so far)
            if cuda:
                torch.cuda.synchronize()
            return span(body, cuda)

        # eager, back to back (the host queues steps ahead of the GPU)
        for _ in range(3 if args.smoke else 20):
            train_step(net, opt, x, y, 5e-4)
        eager = sorted(timed(lambda: [train_step(net, opt, x, y, 5e-4) for _ in range(steps)]) / steps for _ in range(3))[1]
        row = {'eager_ms': eager, 'eager_images_s': batch / eager * 1e3, 'batch': batch}
        # one CUDA graph of the whole step (forward, loss, backward, update), replayed
        if cuda:
            try:
                s = torch.cuda.Stream()
                s.wait_stream(torch.cuda.current_stream())
                with torch.cuda.stream(s):
                    for _ in range(3):
                        train_step(net, opt, x, y, 5e-4)
                torch.cuda.current_stream().wait_stream(s)
                g = torch.cuda.CUDAGraph()
                for p in net.params():
                    p.grad = None
                with torch.cuda.graph(g):
                    static_loss = train_step(net, opt, x, y, 5e-4)
                g.replay()
                torch.cuda.synchronize()
                graph = sorted(timed(lambda: [g.replay() for _ in range(steps)]) / steps for _ in range(3))[1]
                row.update({'graph_ms': graph, 'graph_images_s': batch / graph * 1e3, 'loss': float(static_loss)})
            except Exception as e:
                torch.cuda.synchronize()
                row['graph'] = f'capture failed: {str(e).splitlines()[0][:120]}'
        else:
            row['graph'] = 'no CUDA device'
        out[kind] = row
    return out


# ---------------------------------------------------------------- accuracy
def load_idx(path):
    with gzip.open(path, 'rb') as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack('>HBB', data[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError(f'{path}: not a uint8 IDX file')
    dims = struct.unpack('>' + 'I' * ndim, data[4:4 + 4 * ndim])
    body = data[4 + 4 * ndim:]
    n = 1
    for d in dims:
        n *= d
    if len(body) != n:
        raise ValueError(f'{path}: truncated ({len(body)} of {n} bytes)')
    return torch.frombuffer(bytearray(body), dtype=torch.uint8).reshape(dims)


def fashion(data_dir, split, limit):
    files = {'train': ('train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz'), 'test': ('t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz')}[split]
    paths = [os.path.join(data_dir, f) for f in files]
    for p in paths:
        if not os.path.exists(p):
            raise SystemExit(f'bench_train_torch: Fashion-MNIST file {p} is missing (--data DIR or FASHION_MNIST_DIR)')
    x = load_idx(paths[0])
    y = load_idx(paths[1])
    n = min(x.shape[0], limit) if limit else x.shape[0]
    return x[:n].float().div_(255).reshape(n, 1, 28, 28), y[:n].long()


def accuracy_runs(args, device):
    cuda = device.type == 'cuda'
    data_dir = args.data or os.environ.get('FASHION_MNIST_DIR') or DEFAULT_DATA
    limit = args.limit or (600 if args.smoke else None)
    test_limit = args.test_limit or (200 if args.smoke else None)
    epochs = 1 if args.smoke and not args.epochs_given else args.epochs
    batch = args.batch or 128
    # as npm start: `limit` training images plus a tenth for validation; the last min(5000, n/10) held out
    x_all, y_all = fashion(data_dir, 'train', limit + max(1, limit // 10) if limit else None)
    n_all = y_all.shape[0]
    n_val = min(5000, max(1, n_all // 10))
    x_train, y_train = x_all[:n_all - n_val].to(device), y_all[:n_all - n_val].to(device)
    x_val, y_val = x_all[n_all - n_val:].to(device), y_all[n_all - n_val:].to(device)
    x_test, y_test = fashion(data_dir, 'test', test_limit)
    x_test, y_test = x_test.to(device), y_test.to(device)
    n = y_train.shape[0]
    steps_per_epoch = n // batch
    l2 = args.l2 if args.l2 is not None else SIZES[args.size]['l2']
    runs = []

    @torch.no_grad()
    def evaluate(net, x, y):
        correct = 0
        for i in range(0, y.shape[0], 1000):
            correct += (net.logits(x[i:i + 1000], False).argmax(1) == y[i:i + 1000]).sum().item()
        return correct / y.shape[0]

    for seed in [int(s) for s in args.seeds.split(',')]:
        torch.manual_seed(seed)
        gen = torch.Generator().manual_seed(seed)
        net = Net('fmnist', device, gen, size=args.size)
        opt = Nesterov(net.params(), 0.9, device)
        train_s = 0.0
        val = []
        for epoch in range(epochs):
            order = torch.randperm(n, generator=gen).to(device)
            if cuda:
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            for i in range(steps_per_epoch):
                progressed = (epoch * steps_per_epoch + i) / (epochs * steps_per_epoch)
                opt.lr.fill_(args.learning_rate * 0.5 * (1 + math.cos(math.pi * progressed)))
                idx = order[i * batch:(i + 1) * batch]
                train_step(net, opt, x_train[idx], y_train[idx], l2)
            if cuda:
                torch.cuda.synchronize()
            train_s += time.perf_counter() - t0
            val.append(evaluate(net, x_val, y_val))
            print(f'  seed {seed} epoch {epoch + 1}/{epochs}: validation accuracy {100 * val[-1]:.2f}%', flush=True)
        acc = evaluate(net, x_test, y_test)
        images = epochs * steps_per_epoch * batch
        runs.append({'seed': seed, 'testAccuracy': acc, 'validation': val, 'trainSeconds': train_s, 'images': images, 'images_s': images / train_s})
        print(f'  seed {seed}: test accuracy {100 * acc:.2f}% ({images / train_s:.0f} images/s)', flush=True)
    accs = [r['testAccuracy'] for r in runs]
    mean = sum(accs) / len(accs)
    std = math.sqrt(sum((a - mean) ** 2 for a in accs) / max(1, len(accs) - 1))
    return {'runs': runs, 'mean': mean, 'std': std, 'epochs': epochs, 'batch': batch, 'train': n, 'test': y_test.shape[0]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--mode', choices=['speed', 'accuracy'], default='speed')
    ap.add_argument('--nets', default='fmnist,cifar')
    ap.add_argument('--batch', type=int, default=None)
    ap.add_argument('--steps', type=int, default=200)
    ap.add_argument('--data', default=None)
    ap.add_argument('--epochs', type=int, default=None)
    ap.add_argument('--seeds', default='1,2,3')
    ap.add_argument('--learning-rate', type=float, default=0.05)
    ap.add_argument('--limit', type=int, default=None)
    ap.add_argument('--test-limit', type=int, default=None)
    ap.add_argument('--size', choices=sorted(SIZES), default='large')
    ap.add_argument('--l2', type=float, default=None)
    ap.add_argument('--json', action='store_true')
    ap.add_argument('--smoke', action='store_true')
    args = ap.parse_args()
    args.epochs_given = args.epochs is not None
    if args.epochs is None:
        args.epochs = 10
    device = setup_torch()
    name = torch.cuda.get_device_name() if device.type == 'cuda' else 'CPU (no CUDA device)'
    print(f"device: {name}  torch {torch.__version__}  cudnn {torch.backends.cudnn.version() if device.type == 'cuda' else None}", flush=True)
    if args.mode == 'speed':
        res = speed(args, device)
        for kind, r in res.items():
            graph = f"{r['graph_ms']:.3f} ms = {r['graph_images_s']:.0f} images/s" if 'graph_ms' in r else r['graph']
            print(f"{kind:7s} batch {r['batch']}: eager {r['eager_ms']:.3f} ms = {r['eager_images_s']:.0f} images/s; one CUDA graph {graph}")
    else:
        res = accuracy_runs(args, device)
        print(f"fmnist {res['epochs']} epochs on {res['train']} images: test accuracy mean {100 * res['mean']:.2f}% (std {100 * res['std']:.2f}) over seeds {args.seeds}")
    if args.json:
        print('JSON ' + json.dumps({'mode': args.mode, 'result': res, '_meta': {'device': name, 'torch': torch.__version__}}))


if __name__ == '__main__':
    main()
