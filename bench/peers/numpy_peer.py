"""NumPy peer for featlab's benchmark: hand-written gradients, the same maths and the same data.

Usage: python3 numpy_peer.py WORKLOAD DIR DTYPE REPEATS  (arrays are read from DIR as raw float64)
Prints one JSON line: {"seconds": [...], "loss": ...}.
"""
import json
import sys
import time

import numpy as np


def load(folder, name, shape, dtype):
    return np.fromfile(f"{folder}/{name}.bin", dtype=np.float64).reshape(shape).astype(dtype)


def softplus(z):
    return np.logaddexp(0, z)


def sigmoid(z):
    return 0.5 * (1 + np.tanh(0.5 * z))


def two_layer_gd(folder, dtype, meta):
    n, d, m, steps, lr = meta["n"], meta["d"], meta["m"], meta["steps"], meta["lr"]
    x = load(folder, "x", (n, d), dtype)
    y = load(folder, "y", (n,), dtype)
    w0 = load(folder, "w", (m, d), dtype)
    a0 = load(folder, "a", (m,), dtype)
    w, a = w0.copy(), a0.copy()
    for _ in range(steps):
        pre = x @ w.T
        h = np.maximum(pre, 0)
        f = h @ a
        margin = y * f
        g = -y * sigmoid(-margin) / n
        grad_a = h.T @ g
        delta = np.outer(g, a) * (pre > 0)
        grad_w = delta.T @ x
        a -= lr * grad_a
        w -= lr * grad_w
    f = np.maximum(x @ w.T, 0) @ a
    return float(np.mean(softplus(-y * f)))


def sweep(folder, dtype, meta):
    k, n, d, m, steps, lr = meta["k"], meta["n"], meta["d"], meta["m"], meta["steps"], meta["lr"]
    x = load(folder, "x", (n, d), dtype)
    y = load(folder, "y", (n,), dtype)
    w = load(folder, "w", (k, m, d), dtype)
    a = load(folder, "a", (k, m), dtype)
    for _ in range(steps):
        pre = np.einsum("nd,kmd->knm", x, w)
        h = np.maximum(pre, 0)
        f = np.einsum("knm,km->kn", h, a)
        g = -y * sigmoid(-y * f) / n
        grad_a = np.einsum("knm,kn->km", h, g)
        delta = g[:, :, None] * a[:, None, :] * (pre > 0)
        grad_w = np.einsum("knm,nd->kmd", delta, x)
        a -= lr * grad_a
        w -= lr * grad_w
    f = np.einsum("knm,km->kn", np.maximum(np.einsum("nd,kmd->knm", x, w), 0), a)
    return float(np.mean(softplus(-y * f)))


def jacobian_spectrum(folder, dtype, meta):
    n, d, m = meta["n"], meta["d"], meta["m"]
    x = load(folder, "x", (n, d), dtype)
    w = load(folder, "w", (m, d), dtype)
    a = load(folder, "a", (m,), dtype)
    pre = x @ w.T
    jac_a = np.maximum(pre, 0)
    jac_w = ((pre > 0) * a)[:, :, None] * x[:, None, :]
    jac = np.concatenate([jac_w.reshape(n, m * d), jac_a], axis=1)
    s = np.linalg.svd(jac, compute_uv=False)
    return float(s[0])


def ridge(folder, dtype, meta):
    n, p, q, lam = meta["n"], meta["p"], meta["q"], meta["lambda"]
    a = load(folder, "a", (n, p), dtype)
    b = load(folder, "b", (n, q), dtype)
    theta = np.linalg.solve(a.T @ a + lam * np.eye(p, dtype=dtype), a.T @ b)
    return float(np.sum(theta * theta))


WORKLOADS = {"two_layer_gd": two_layer_gd, "sweep": sweep, "jacobian": jacobian_spectrum, "ridge": ridge}

if __name__ == "__main__":
    workload, folder, dtype_name, repeats = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    meta = json.load(open(f"{folder}/meta.json"))
    dtype = np.float32 if dtype_name == "float32" else np.float64
    seconds, value = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        value = WORKLOADS[workload](folder, dtype, meta)
        seconds.append(time.perf_counter() - start)
    print(json.dumps({"seconds": seconds, "value": value, "version": np.__version__}))
