"""PyTorch peer for featlab's benchmark: autograd on the same maths and the same data.

Usage: python3 torch_peer.py WORKLOAD DIR DTYPE REPEATS  (arrays are read from DIR as raw float64)
Prints one JSON line: {"seconds": [...], "value": ...}.
"""
import json
import sys
import time

import numpy as np

from blas_info import blas_config
import torch


def load(folder, name, shape, dtype):
    return torch.from_numpy(np.fromfile(f"{folder}/{name}.bin", dtype=np.float64).reshape(shape)).to(dtype)


def two_layer_gd(folder, dtype, meta):
    n, d, m, steps, lr = meta["n"], meta["d"], meta["m"], meta["steps"], meta["lr"]
    x, y = load(folder, "x", (n, d), dtype), load(folder, "y", (n,), dtype)
    w = load(folder, "w", (m, d), dtype).requires_grad_()
    a = load(folder, "a", (m,), dtype).requires_grad_()
    for _ in range(steps):
        loss = torch.nn.functional.softplus(-y * (torch.relu(x @ w.T) @ a)).mean()
        gw, ga = torch.autograd.grad(loss, (w, a))
        with torch.no_grad():
            w -= lr * gw
            a -= lr * ga
    with torch.no_grad():
        return float(torch.nn.functional.softplus(-y * (torch.relu(x @ w.T) @ a)).mean())


def sweep(folder, dtype, meta):
    k, n, d, m, steps, lr = meta["k"], meta["n"], meta["d"], meta["m"], meta["steps"], meta["lr"]
    x, y = load(folder, "x", (n, d), dtype), load(folder, "y", (n,), dtype)
    w = load(folder, "w", (k, m, d), dtype).requires_grad_()
    a = load(folder, "a", (k, m), dtype).requires_grad_()
    xt = x.T.contiguous()
    for _ in range(steps):
        # Batched matmuls over the model axis (one BLAS call per product), as a torch user would write it.
        f = torch.matmul(a[:, None, :], torch.relu(torch.matmul(w, xt)))[:, 0, :]
        loss = torch.nn.functional.softplus(-y * f).mean(dim=1).sum()
        gw, ga = torch.autograd.grad(loss, (w, a))
        with torch.no_grad():
            w -= lr * gw
            a -= lr * ga
    with torch.no_grad():
        f = torch.matmul(a[:, None, :], torch.relu(torch.matmul(w, xt)))[:, 0, :]
        return float(torch.nn.functional.softplus(-y * f).mean())


def jacobian_spectrum(folder, dtype, meta):
    """As the NumPy peer: the Gram matrix J Jᵀ without forming J (featlab's algorithm), then eigvalsh."""
    n, d, m = meta["n"], meta["d"], meta["m"]
    x = load(folder, "x", (n, d), dtype)
    w = load(folder, "w", (m, d), dtype)
    a = load(folder, "a", (m,), dtype)
    pre = x @ w.T
    h = torch.relu(pre)
    slopes = (pre > 0).to(dtype) * a
    gram = h @ h.T + (x @ x.T) * (slopes @ slopes.T)
    return float(torch.sqrt(torch.clamp(torch.linalg.eigvalsh(gram)[-1], min=0)))


def ridge(folder, dtype, meta):
    n, p, q, lam = meta["n"], meta["p"], meta["q"], meta["lambda"]
    a, b = load(folder, "a", (n, p), dtype), load(folder, "b", (n, q), dtype)
    theta = torch.linalg.solve(a.T @ a + lam * torch.eye(p, dtype=dtype), a.T @ b)
    return float((theta * theta).sum())


class _Block(torch.nn.Module):
    """A residual block without normalization: relu(conv2(relu(conv1(x))) + shortcut(x)), as featlab's."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = torch.nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.c2 = torch.nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.proj = torch.nn.Conv2d(cin, cout, 1, stride, 0, bias=False) if stride != 1 or cin != cout else None

    def forward(self, x):
        y = self.c2(torch.relu(self.c1(x)))
        return torch.relu(y + (self.proj(x) if self.proj is not None else x))


def _cnn(architecture):
    """featlab's cnn5 and resnet8 (no batch norm, no biases); convs in featlab's weight-layer order."""
    conv = lambda cin, cout: torch.nn.Conv2d(cin, cout, 3, 1, 1, bias=False)
    if architecture == "cnn5":
        convs = [conv(1, 32), conv(32, 32), conv(32, 32), conv(32, 32)]
        readout = torch.nn.Linear(7 * 7 * 32, 10, bias=False)

        def forward(x):
            x = torch.max_pool2d(torch.relu(convs[1](torch.relu(convs[0](x)))), 2)
            x = torch.max_pool2d(torch.relu(convs[3](torch.relu(convs[2](x)))), 2)
            return readout(torch.flatten(x, 1))

        layers = convs + [readout]
        return torch.nn.ModuleList(layers), forward, layers
    stem = conv(1, 16)
    blocks = [_Block(16, 16, 1), _Block(16, 32, 2), _Block(32, 64, 2)]
    readout = torch.nn.Linear(64, 10, bias=False)

    def forward(x):
        x = torch.relu(stem(x))
        for b in blocks:
            x = b(x)
        return readout(x.mean((2, 3)))

    layers = [stem] + [m for b in blocks for m in ([b.c1, b.c2] + ([b.proj] if b.proj is not None else []))] + [readout]
    return torch.nn.ModuleList([stem, *blocks, readout]), forward, layers


def cnn_epoch(folder, dtype, meta):
    """One epoch of minibatch SGD (featlab's order, batch, init and loss) of a CNN; times the epoch only,
    in the faster of PyTorch's two layouts (channels_last and contiguous NCHW)."""
    n, batch, lr = meta["n"], meta["batch"], meta["lr"]
    x = load(folder, "x", (n, 1, 28, 28), dtype)
    labels = torch.from_numpy(np.fromfile(f"{folder}/labels.bin", dtype=np.float64).astype(np.int64))
    order = torch.from_numpy(np.fromfile(f"{folder}/order.bin", dtype=np.float64).astype(np.int64))
    best = None
    for layout in (torch.channels_last, torch.contiguous_format):
        modules, forward, layers = _cnn(meta["architecture"])
        modules.to(dtype)
        with torch.no_grad():
            for l, layer in enumerate(layers):
                w = np.fromfile(f"{folder}/w{l}.bin", dtype=np.float64)
                if isinstance(layer, torch.nn.Linear):
                    cout, fan = layer.weight.shape
                    c = meta["readoutChannels"]
                    side = int(round((fan // c) ** 0.5))
                    # featlab flattens channels-last (h, w, c); PyTorch's flatten is (c, h, w).
                    w = w.reshape(cout, side, side, c).transpose(0, 3, 1, 2).reshape(cout, fan)
                else:
                    cout, cin, k, _ = layer.weight.shape
                    w = w.reshape(cout, k, k, cin).transpose(0, 3, 1, 2)
                layer.weight.copy_(torch.from_numpy(np.ascontiguousarray(w)))
        modules.to(memory_format=layout)
        data = x.contiguous(memory_format=layout)
        optimizer = torch.optim.SGD(modules.parameters(), lr=lr)
        start = time.perf_counter()
        for first in range(0, n, batch):
            rows = order[first:first + batch]
            optimizer.zero_grad(set_to_none=True)
            torch.nn.functional.cross_entropy(forward(data[rows]), labels[rows]).backward()
            optimizer.step()
        seconds = time.perf_counter() - start
        with torch.no_grad():
            value = float(torch.nn.functional.cross_entropy(forward(data[:1000]), labels[:1000]))
        if best is None or seconds < best["seconds"]:
            best = {"seconds": seconds, "value": value, "layout": "channels_last" if layout is torch.channels_last else "NCHW"}
    return best


WORKLOADS = {"two_layer_gd": two_layer_gd, "sweep": sweep, "jacobian": jacobian_spectrum, "ridge": ridge, "cnn_epoch": cnn_epoch}

if __name__ == "__main__":
    workload, folder, dtype_name, repeats = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    torch.set_num_threads(2)
    meta = json.load(open(f"{folder}/meta.json"))
    dtype = torch.float32 if dtype_name == "float32" else torch.float64
    seconds, value, note = [], None, ""
    for _ in range(repeats):
        start = time.perf_counter()
        value = WORKLOADS[workload](folder, dtype, meta)
        elapsed = time.perf_counter() - start
        # A workload that times its own region (not its loading) returns it.
        if isinstance(value, dict):
            elapsed, note, value = value["seconds"], f"{value['layout']}, ", value["value"]
        seconds.append(elapsed)
    config = torch.__config__.parallel_info().splitlines()
    backend = next((line.strip() for line in config if "ATen parallel backend" in line), "")
    print(json.dumps({"seconds": seconds, "value": value, "version": torch.__version__, "blas": f"{note}PyTorch {torch.__version__}, {backend}, oneDNN {'on' if torch.backends.mkldnn.is_available() else 'off'}; {blas_config()}"}))
