#!/usr/bin/env python3
"""Peer timing for gdlab-wasserstein (issue 9): the interaction-energy gradient
(1/n) sum_j grad W(x_i - x_j) of the isotropic double well W(z) = |z|^4/4 - |z|^2/2,
and the sliced Wasserstein distance, gdlab vs NumPy (vectorised) and POT, same sizes,
same run. Prints seconds and the ratio peer / gdlab.

  grad W(z) = (|z|^2 - 1) z, so with Q_ij = |x_i - x_j|^2 and F = Q - 1:
  g_i = (1/n) [ (sum_j F_ij) x_i - (F X)_i ]

* NumPy: pairwise differences in row blocks (broadcast (b, n, d)), einsum for Q.
* POT:   ot.dist(X_block, X) (squared Euclidean, the same Q) and the matrix form above.
* POT:   ot.sliced_wasserstein_distance(X, Y, n_projections=L) vs gdlab's SW_2 distance.
* gdlab: `gdlab wasserstein bench --kernel ... --json` (median of --steps calls).

Run (venv outside the repo):
    python3 -m venv /work/venv-w && /work/venv-w/bin/pip install numpy pot scipy
    cargo build --release -p gdlab-cli
    /work/venv-w/bin/python benches/peers/wasserstein.py [--threads 1] [--n 10000]

NumPy/BLAS threads follow OMP_NUM_THREADS / OPENBLAS_NUM_THREADS (set them to match
--threads for a like-for-like comparison).
"""
import argparse
import json
import os
import subprocess
import time

import numpy as np
import ot

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
GDLAB = os.path.join(ROOT, "target", "release", "gdlab")


def median_time(f, steps):
    f()  # warm-up
    ts = []
    for _ in range(steps):
        t = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t)
    ts.sort()
    return ts[len(ts) // 2]


def grad_numpy(X, block):
    n = X.shape[0]
    g = np.empty_like(X)
    for s in range(0, n, block):
        Z = X[s:s + block, None, :] - X[None, :, :]          # (b, n, d)
        q = np.einsum("bnd,bnd->bn", Z, Z)
        g[s:s + block] = np.einsum("bn,bnd->bd", q - 1.0, Z) / n
    return g


def grad_pot(X, block):
    n = X.shape[0]
    g = np.empty_like(X)
    for s in range(0, n, block):
        F = ot.dist(X[s:s + block], X) - 1.0                   # (b, n)
        g[s:s + block] = (F.sum(1)[:, None] * X[s:s + block] - F @ X) / n
    return g


def gdlab(kernel, n, d, threads, steps, projections=50):
    out = subprocess.run(
        [GDLAB, "wasserstein", "bench", "--kernel", kernel, "--n", str(n), "--dim", str(d),
         "--threads", str(threads), "--steps", str(steps), "--projections", str(projections),
         "--json"],
        check=True, capture_output=True, text=True).stdout
    return json.loads(out)["seconds"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--projections", type=int, default=50)
    args = ap.parse_args()
    n, steps = args.n, args.steps
    rng = np.random.default_rng(0)
    print(f"machine: {os.cpu_count()} cores; gdlab threads = {args.threads}; "
          f"numpy {np.__version__}, POT {ot.__version__}")
    for d in (2, 10):
        X = rng.standard_normal((n, d))
        # the two peers agree with each other (same computation)
        small = X[:500]
        assert np.allclose(grad_numpy(small, 100), grad_pot(small, 100), rtol=1e-10, atol=1e-12)
        block = max(1, 2_000_000 // (n * d))
        t_np = median_time(lambda: grad_numpy(X, block), steps)
        t_pot = median_time(lambda: grad_pot(X, 1000), steps)
        t_gd = gdlab("interaction", n, d, args.threads, steps)
        print(f"interaction gradient n={n} d={d}: gdlab {t_gd:.3f} s | numpy {t_np:.3f} s "
              f"(ratio {t_np / t_gd:.2f}) | POT ot.dist+matmul {t_pot:.3f} s (ratio {t_pot / t_gd:.2f})")
    d, L = 10, args.projections
    X = rng.standard_normal((n, d))
    Y = 1.5 * rng.standard_normal((n, d))
    t_pot = median_time(lambda: ot.sliced_wasserstein_distance(X, Y, n_projections=L, seed=0), steps)
    t_gd = gdlab("sliced", n, d, args.threads, steps, L)
    print(f"sliced W2 distance n={n} d={d} L={L}: gdlab {t_gd:.4f} s | POT {t_pot:.4f} s "
          f"(ratio {t_pot / t_gd:.2f})")


if __name__ == "__main__":
    main()
