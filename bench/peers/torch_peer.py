"""PyTorch peer for featlab's benchmark: autograd on the same maths and the same data.

Usage: python3 torch_peer.py WORKLOAD DIR DTYPE REPEATS  (arrays are read from DIR as raw float64)
Prints one JSON line: {"seconds": [...], "value": ...}.
"""
import json
import sys
import time

import numpy as np
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
    for _ in range(steps):
        f = torch.einsum("knm,km->kn", torch.relu(torch.einsum("nd,kmd->knm", x, w)), a)
        loss = torch.nn.functional.softplus(-y * f).mean(dim=1).sum()
        gw, ga = torch.autograd.grad(loss, (w, a))
        with torch.no_grad():
            w -= lr * gw
            a -= lr * ga
    with torch.no_grad():
        f = torch.einsum("knm,km->kn", torch.relu(torch.einsum("nd,kmd->knm", x, w)), a)
        return float(torch.nn.functional.softplus(-y * f).mean())


def jacobian_spectrum(folder, dtype, meta):
    n, d, m = meta["n"], meta["d"], meta["m"]
    x = load(folder, "x", (n, d), dtype)
    w = load(folder, "w", (m, d), dtype)
    a = load(folder, "a", (m,), dtype)
    # torch.autograd.functional works on every torch version (torch.func needs 2.0).
    jw, ja = torch.autograd.functional.jacobian(lambda w_, a_: torch.relu(x @ w_.T) @ a_, (w, a), vectorize=True)
    jac = torch.cat([jw.reshape(n, m * d), ja], dim=1)
    return float(torch.linalg.svdvals(jac)[0])


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
    print(json.dumps({"seconds": seconds, "value": value, "version": torch.__version__}))
