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


WORKLOADS = {"two_layer_gd": two_layer_gd, "sweep": sweep, "jacobian": jacobian_spectrum, "ridge": ridge}

if __name__ == "__main__":
    workload, folder, dtype_name, repeats = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    torch.set_num_threads(2)
    meta = json.load(open(f"{folder}/meta.json"))
    dtype = torch.float32 if dtype_name == "float32" else torch.float64
    seconds, value = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        value = WORKLOADS[workload](folder, dtype, meta)
        seconds.append(time.perf_counter() - start)
    print(json.dumps({"seconds": seconds, "value": value, "version": torch.__version__, "blas": blas_config()}))
