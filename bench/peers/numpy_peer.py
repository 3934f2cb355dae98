"""NumPy peer for featlab's benchmark: hand-written gradients, the same maths and the same data.

Usage: python3 numpy_peer.py WORKLOAD DIR DTYPE REPEATS  (arrays are read from DIR as raw float64)
Prints one JSON line: {"seconds": [...], "loss": ...}.
"""
import json
import sys
import time

import numpy as np

from blas_info import blas_config


def load(folder, name, shape, dtype):
    return np.fromfile(f"{folder}/{name}.bin", dtype=np.float64).reshape(shape).astype(dtype)


def softplus(z):
    return np.logaddexp(0, z)


def sigmoid(z):
    return 0.5 * (1 + np.tanh(0.5 * z))


def _forward(x, w, a, hidden, mask):
    """f = relu(x wᵀ) a, leaving the activations in `hidden` and their on/off pattern in `mask` (in place)."""
    np.matmul(x, w.T, out=hidden)
    np.greater(hidden, 0, out=mask)
    np.maximum(hidden, 0, out=hidden)
    return hidden @ a


def _update(x, y, w, a, hidden, mask, f, lr):
    """One GD step of the mean logistic loss from the forward's buffers (overwrites `hidden`)."""
    g = -y * sigmoid(-y * f) / x.shape[0]
    grad_a = hidden.T @ g
    np.multiply(g[:, None], a[None, :], out=hidden)
    hidden *= mask
    grad_w = hidden.T @ x
    a -= lr * grad_a
    w -= lr * grad_w


def _buffers(x, w):
    """The one n × m buffer (pre-activation, activation, then backprop signal) and its mask."""
    return np.empty((x.shape[0], w.shape[0]), dtype=x.dtype), np.empty((x.shape[0], w.shape[0]), dtype=bool)


def two_layer_gd(folder, dtype, meta):
    n, d, m, steps, lr = meta["n"], meta["d"], meta["m"], meta["steps"], meta["lr"]
    x = load(folder, "x", (n, d), dtype)
    y = load(folder, "y", (n,), dtype)
    w = load(folder, "w", (m, d), dtype)
    a = load(folder, "a", (m,), dtype)
    hidden, mask = _buffers(x, w)
    for _ in range(steps):
        _update(x, y, w, a, hidden, mask, _forward(x, w, a, hidden, mask), lr)
    f = np.maximum(x @ w.T, 0) @ a
    return float(np.mean(softplus(-y * f)))


def _train_to_target(args):
    """One trial of the sweep: GD from the given init until the training loss is at or below the target
    (checked before each update, as featlab does) or max_steps; returns (steps, final loss)."""
    x, y, w, a, lr, target, max_steps = args
    hidden, mask = _buffers(x, w)
    for step in range(max_steps + 1):
        f = _forward(x, w, a, hidden, mask)
        loss = float(np.mean(softplus(-y * f)))
        if loss <= target or step == max_steps:
            return step, loss
        _update(x, y, w, a, hidden, mask, f, lr)
    return max_steps, loss


def sweep_to_target(folder, dtype, meta):
    """The scale workload: every trial of a sweep trained to a target risk, in a pool of one process per
    core (each with a single-threaded BLAS: the faster way to run many independent mid-sized trials)."""
    import multiprocessing

    t, s, n, d, m = meta["trials"], meta["seeds"], meta["n"], meta["d"], meta["m"]
    x = load(folder, "x", (s, n, d), dtype)
    y = load(folder, "y", (s, n), dtype)
    w = load(folder, "w", (t, m, d), dtype)
    a = load(folder, "a", (t, m), dtype)
    seed_of = np.fromfile(f"{folder}/seedIndex.bin", dtype=np.float64).astype(int)
    jobs = [(x[seed_of[i]], y[seed_of[i]], w[i], a[i], meta["lr"], meta["target"], meta["maxSteps"]) for i in range(t)]
    with multiprocessing.get_context("fork").Pool(meta["processes"]) as pool:
        results = pool.map(_train_to_target, jobs, chunksize=4)
    with open(f"{folder}/steps.json", "w") as out:
        json.dump([r[0] for r in results], out)
    return float(np.mean([r[1] for r in results]))


def _sweep_batched(x, xt, y, w, a, n, steps, lr):
    """One batched np.matmul over the model axis per product, updates in place."""
    for _ in range(steps):
        pre = np.matmul(w, xt)  # k × m × n
        h = np.maximum(pre, 0)
        f = np.matmul(a[:, None, :], h)[:, 0, :]  # k × n
        g = -y * sigmoid(-y * f) / n
        grad_a = np.matmul(h, g[:, :, None])[:, :, 0]
        np.multiply(a[:, :, None], g[:, None, :], out=h)  # reuse the buffer: delta = (a ⊗ g) ⊙ 1{pre > 0}
        h *= pre > 0
        grad_w = np.matmul(h, x)  # k × m × d
        a -= lr * grad_a
        w -= lr * grad_w
    return w, a


def _sweep_loop(x, xt, y, w, a, n, steps, lr):
    """A loop of BLAS matmuls, one model at a time, updates in place."""
    for k in range(w.shape[0]):
        wk, ak = w[k], a[k]
        for _ in range(steps):
            pre = wk @ xt  # m × n
            h = np.maximum(pre, 0)
            f = ak @ h
            g = -y * sigmoid(-y * f) / n
            grad_a = h @ g
            delta = np.outer(ak, g)
            delta *= pre > 0
            wk -= lr * (delta @ x)
            ak -= lr * grad_a
    return w, a


def sweep(folder, dtype, meta):
    """K models trained alike: the faster of a batched np.matmul and a loop of matmuls (timed on 20 steps)."""
    k, n, d, m, steps, lr = meta["k"], meta["n"], meta["d"], meta["m"], meta["steps"], meta["lr"]
    x = load(folder, "x", (n, d), dtype)
    xt = np.ascontiguousarray(x.T)
    y = load(folder, "y", (n,), dtype)
    w0 = load(folder, "w", (k, m, d), dtype)
    a0 = load(folder, "a", (k, m), dtype)
    timings = []
    for variant in (_sweep_batched, _sweep_loop):
        start = time.perf_counter()
        variant(x, xt, y, w0.copy(), a0.copy(), n, 20, lr)
        timings.append((time.perf_counter() - start, variant))
    fastest = min(timings, key=lambda t: t[0])[1]
    w, a = fastest(x, xt, y, w0.copy(), a0.copy(), n, steps, lr)
    f = np.matmul(a[:, None, :], np.maximum(np.matmul(w, xt), 0))[:, 0, :]
    return float(np.mean(softplus(-y * f)))


def jacobian_spectrum(folder, dtype, meta):
    """The singular values of the n × p Jacobian as square roots of the eigenvalues of its n × n Gram
    matrix, built without forming J (featlab's algorithm, MlpEnsemble.ntkGram):
    J Jᵀ = H Hᵀ + (X Xᵀ) ⊙ ((D ⊙ a)(D ⊙ a)ᵀ), H = relu(X Wᵀ), D = 1{X Wᵀ > 0}."""
    n, d, m = meta["n"], meta["d"], meta["m"]
    x = load(folder, "x", (n, d), dtype)
    w = load(folder, "w", (m, d), dtype)
    a = load(folder, "a", (m,), dtype)
    pre = x @ w.T
    h = np.maximum(pre, 0)
    slopes = (pre > 0) * a
    gram = h @ h.T
    gram += (x @ x.T) * (slopes @ slopes.T)
    eigenvalues = np.linalg.eigvalsh(gram)
    return float(np.sqrt(max(eigenvalues[-1], 0.0)))


def ridge(folder, dtype, meta):
    n, p, q, lam = meta["n"], meta["p"], meta["q"], meta["lambda"]
    a = load(folder, "a", (n, p), dtype)
    b = load(folder, "b", (n, q), dtype)
    theta = np.linalg.solve(a.T @ a + lam * np.eye(p, dtype=dtype), a.T @ b)
    return float(np.sum(theta * theta))


WORKLOADS = {"two_layer_gd": two_layer_gd, "sweep": sweep, "sweep_to_target": sweep_to_target, "jacobian": jacobian_spectrum, "ridge": ridge}

if __name__ == "__main__":
    workload, folder, dtype_name, repeats = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    meta = json.load(open(f"{folder}/meta.json"))
    dtype = np.float32 if dtype_name == "float32" else np.float64
    seconds, value = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        value = WORKLOADS[workload](folder, dtype, meta)
        seconds.append(time.perf_counter() - start)
    print(json.dumps({"seconds": seconds, "value": value, "version": np.__version__, "blas": blas_config()}))
