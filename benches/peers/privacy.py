#!/usr/bin/env python3
"""Factorization cost: a plain NumPy AOF against `gdlab privacy factorize`, same machine.

For one workload (SGD with momentum beta and weight-decay multiplier alpha) of n steps,
single participation or b-min-separation with k = n/b participations, it times

* a NumPy AOF: L-BFGS (memory 10) over the free entries of S = C^T C (unit diagonal,
  S_ij = 0 for |i-j| >= b), objective log tr(A^T A S^-1), gradient -S^-1 A^T A S^-1,
  backtracking Armijo line search that rejects non-PD trial points (Cholesky test) -
  the same algorithm as gdlab's `aof` module, written with numpy/scipy.linalg;
* `gdlab privacy factorize --strategy aof --json` (Rust, faer);
* `gdlab privacy factorize --strategy bsr --json` (closed form, Theorem 1);

and prints seconds, E = ||B||_F sens / sqrt(n) of each, and the time ratios.
jax_privacy is not installed here; its `dense.optimize` is the same kind of solver.

Run from the repository root after `cargo build --release -p gdlab-cli`:

    /tmp/dpvenv/bin/python benches/peers/privacy.py --n 200 --participations 2 --separation 100

Exit status 0 when everything ran, 2 when the binary is missing or a run failed.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import time

import numpy as np
import scipy.linalg as sla

BIN = os.path.join("target", "release", "gdlab")


def workload(alpha, beta, n):
    a = np.zeros(n)
    prev, bp = 0.0, 1.0
    for m in range(n):
        prev = alpha * prev + bp
        a[m] = prev
        bp *= beta
    A = np.zeros((n, n))
    for m in range(n):
        A += np.diag(np.full(n - m, a[m]), -m)
    return A


def numpy_aof(A, band, iters, memory=10, gtol=1e-9):
    n = A.shape[0]
    M = A.T @ A
    free = [(i, j) for j in range(n) for i in range(j + 1, min(n, j + band))]
    I = np.array([p[0] for p in free], dtype=int)
    J = np.array([p[1] for p in free], dtype=int)

    def build(x):
        S = np.eye(n)
        S[I, J] = x
        S[J, I] = x
        return S

    def evaluate(x):
        try:
            L = np.linalg.cholesky(build(x))
        except np.linalg.LinAlgError:
            return None
        W = sla.solve_triangular(L, A.T, lower=True)
        f = float(np.sum(W * W))
        V = sla.solve_triangular(L.T, W, lower=False)
        G = V @ V.T
        return f, -2.0 * G[I, J] / f

    x = np.zeros(len(free))
    f, g = evaluate(x)
    S_h, Y_h = [], []
    it = 0
    while it < iters and np.max(np.abs(g)) >= gtol:
        q = g.copy()
        al = []
        for s, y in reversed(list(zip(S_h, Y_h))):
            a_ = (s @ q) / (y @ s)
            al.append(a_)
            q -= a_ * y
        if S_h:
            q *= (S_h[-1] @ Y_h[-1]) / (Y_h[-1] @ Y_h[-1])
        else:
            q *= 0.1 / np.max(np.abs(g))
        for (s, y), a_ in zip(zip(S_h, Y_h), reversed(al)):
            b_ = (y @ q) / (y @ s)
            q += (a_ - b_) * s
        d = -q
        slope = g @ d
        if slope >= 0:
            S_h, Y_h = [], []
            d = -g * 0.1 / np.max(np.abs(g))
            slope = g @ d
        t, acc = 1.0, None
        for _ in range(60):
            xt = x + t * d
            e = evaluate(xt)
            if e is not None and math.log(e[0]) <= math.log(f) + 1e-4 * t * slope:
                acc = (xt, e)
                break
            t *= 0.5
        if acc is None:
            break
        xn, (fn, gn) = acc
        s, y = xn - x, gn - g
        if s @ y > 0:
            if len(S_h) == memory:
                S_h.pop(0)
                Y_h.pop(0)
            S_h.append(s)
            Y_h.append(y)
        x, f, g = xn, fn, gn
        it += 1
    return f, it


def gdlab(args):
    out = subprocess.run([BIN, "privacy", "factorize", *args, "--json"], capture_output=True, text=True)
    if out.returncode != 0:
        print(out.stderr, file=sys.stderr)
        sys.exit(2)
    return json.loads(out.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--alpha", type=float, default=1.0)
    ap.add_argument("--beta", type=float, default=0.0)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--participations", type=int)
    ap.add_argument("--separation", type=int)
    ap.add_argument("--iters", type=int, default=3000)
    a = ap.parse_args()
    if not os.path.exists(BIN):
        print(f"{BIN} missing: cargo build --release -p gdlab-cli", file=sys.stderr)
        return 2
    common = ["--alpha", str(a.alpha), "--beta", str(a.beta), "--n", str(a.n)]
    k, band = 1, a.n
    if a.participations:
        common += ["--participations", str(a.participations), "--separation", str(a.separation)]
        k, band = a.participations, a.separation
    A = workload(a.alpha, a.beta, a.n)
    t0 = time.perf_counter()
    f, iters = numpy_aof(A, band, a.iters)
    t_np = time.perf_counter() - t0
    e_np = math.sqrt(k * f / a.n)
    t0 = time.perf_counter()
    aof = gdlab(common + ["--strategy", "aof", "--aof-iters", str(a.iters), "--aof-seconds", "3600"])
    t_aof_wall = time.perf_counter() - t0
    bsr = gdlab(common + ["--strategy", "bsr"])
    print(f"workload (alpha, beta) = ({a.alpha}, {a.beta}), n = {a.n}, k = {k}, b = {band}")
    print(f"numpy AOF      : {t_np:10.4f} s  E = {e_np:.6f}  ({iters} iterations)")
    print(f"gdlab AOF      : {aof['seconds']:10.4f} s  E = {aof['rmse']:.6f}  ({aof['aof']['iterations']} iterations; process wall {t_aof_wall:.3f} s)")
    print(f"gdlab BSR      : {bsr['seconds']:10.6f} s  E = {bsr['rmse']:.6f}")
    print(f"ratio numpy AOF / gdlab AOF time : {t_np / aof['seconds']:.3f}")
    print(f"ratio gdlab AOF / gdlab BSR time : {aof['seconds'] / max(bsr['seconds'], 1e-9):.3e}")
    print(f"ratio numpy AOF / gdlab BSR time : {t_np / max(bsr['seconds'], 1e-9):.3e}")
    print(f"E_BSR / E_AOF(gdlab) = {bsr['rmse'] / aof['rmse']:.4f}; E_AOF(numpy) / E_AOF(gdlab) = {e_np / aof['rmse']:.6f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
