#!/usr/bin/env python3
"""Independent NumPy transcription of DGD-ATC / centralized GD on the over-parameterized
sparse-regression objective (spec `decentralized-gd-sparse-regression.md` §2.1-§2.2), used
two ways:

``compare``  NumPy draws the data (PCG64), writes it as gdlab shard files, runs
             ``gdlab decentral run --shards DIR --backend threads`` on a ring with the same
             Metropolis weights, and compares the per-round mean agent error of the two
             implementations on identical data (they must agree to ~1e-10 relative: same
             algorithm, different summation order).

``sweep``    The spec §5 quick setup (d = 1000, s = 5, m = 10, n_i = 30, sigma = 0.5,
             ER(p = 0.5) and ring-10 with Metropolis weights, alpha = 1e-6, eta = 0.05,
             T = 3000) over many NumPy seeds: the distribution of the check-1 and check-2a
             ratios E(DGD-ATC)/E(CGD), so a 3-seed median can be judged against it.

Not run in CI (CI never runs Python). Environment: a throwaway venv with numpy
(``python3 -m venv /tmp/npvenv && /tmp/npvenv/bin/pip install numpy``).

Usage:
    cargo build --release -p gdlab-cli
    /tmp/npvenv/bin/python scripts/reference/decentral_dgd_numpy.py compare --gdlab target/release/gdlab
    /tmp/npvenv/bin/python scripts/reference/decentral_dgd_numpy.py sweep --seeds 20
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np


def draw(rng, d, s, m, n, sigma, magnitude):
    """w* with s random-sign entries of the given magnitude on a random support; X_i ~ N(0,1)."""
    support = rng.choice(d, size=s, replace=False)
    w_star = np.zeros(d)
    w_star[support] = magnitude * rng.choice([-1.0, 1.0], size=s)
    xs, ys = [], []
    for _ in range(m):
        x = rng.standard_normal((n, d))
        xs.append(x)
        ys.append(x @ w_star + sigma * rng.standard_normal(n))
    return w_star, support, xs, ys


def metropolis(adj):
    """W_ij = 1/(1 + max(deg_i, deg_j)) on edges, W_ii = 1 - sum_j W_ij."""
    deg = adj.sum(axis=1)
    m = len(adj)
    w = np.zeros((m, m))
    for i in range(m):
        for j in range(m):
            if i != j and adj[i, j]:
                w[i, j] = 1.0 / (1.0 + max(deg[i], deg[j]))
        w[i, i] = 1.0 - w[i].sum()
    return w


def ring(m):
    adj = np.zeros((m, m), dtype=bool)
    for i in range(m):
        adj[i, (i + 1) % m] = adj[(i + 1) % m, i] = True
    return adj


def er_connected(rng, m, p):
    while True:
        upper = np.triu(rng.random((m, m)) < p, 1)
        adj = upper | upper.T
        # connected iff the Laplacian has one zero eigenvalue
        lap = np.diag(adj.sum(1)) - adj.astype(float)
        if np.sort(np.linalg.eigvalsh(lap))[1] > 1e-9:
            return adj


def rho(w):
    m = len(w)
    return np.linalg.norm(w - np.ones((m, m)) / m, 2)


def top_k(x, k):
    """Trun_k per row: keep the k largest |x_j| (ties: lowest index), zero the rest."""
    out = np.zeros_like(x)
    for i, row in enumerate(x):
        keep = np.lexsort((np.arange(len(row)), -np.abs(row)))[:k]
        out[i, keep] = row[keep]
    return out


def dgd_atc(xs, ys, w_mix, w_star, alpha, eta, rounds, k=None):
    """err_agents(t) for t = 0..rounds: adapt (local multiplicative step), then combine.
    With k: T-DGD (spec §2.3), every agent mixes the top-k truncated updated vectors."""
    m, d = len(xs), len(w_star)
    u = np.full((m, d), alpha)
    v = np.full((m, d), alpha)
    errs = []
    for t in range(rounds + 1):
        w = u * u - v * v
        errs.append(np.mean(np.linalg.norm(w - w_star, axis=1)))
        if t == rounds:
            break
        g = np.stack([x.T @ (x @ w[i] - y) / len(y) for i, (x, y) in enumerate(zip(xs, ys))])
        u_hat = u - 4 * eta * u * g
        v_hat = v + 4 * eta * v * g
        if k is not None:
            u_hat, v_hat = top_k(u_hat, k), top_k(v_hat, k)
        u = w_mix @ u_hat
        v = w_mix @ v_hat
    return np.array(errs)


def oracle_ls(xs, ys, support, d):
    x = np.vstack(xs)[:, support]
    y = np.concatenate(ys)
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    w = np.zeros(d)
    w[support] = coef
    return w


def compare(args):
    d, s, m, n, alpha, rounds = 300, 4, 6, 25, 1e-6, 600
    # T-DGD needs high SNR (spec §2.3): magnitude 10, sigma = 0.1, 4*eta*w*_max = 0.2.
    sigma, magnitude, eta = (0.1, 10.0, 0.005) if args.tdgd else (0.5, 1.0, 0.05)
    k = s if args.tdgd else None
    rng = np.random.default_rng(args.seed)
    w_star, _, xs, ys = draw(rng, d, s, m, n, sigma, magnitude)
    ours = dgd_atc(xs, ys, metropolis(ring(m)), w_star, alpha, eta, rounds, k)
    with tempfile.TemporaryDirectory() as tmp:
        for i, (x, y) in enumerate(zip(xs, ys)):
            np.save(os.path.join(tmp, f"shard-{i}.npy"), np.hstack([x, y[:, None]]))
        np.save(os.path.join(tmp, "w_star.npy"), w_star)
        cfg = {
            "graph": {"kind": "ring", "n_nodes": m},
            "problem": {"dim": d, "sparsity": s, "n_agents": m, "samples_per_agent": n,
                        "noise_std": sigma, "magnitude": magnitude},
            "algorithms": [{"algorithm": "dgd", "step_size": eta, "init_scale": alpha,
                            "n_rounds": rounds}],
        }
        if k is not None:
            cfg["algorithms"][0]["truncation"] = {"k": k}
        cfg_path = os.path.join(tmp, "cfg.json")
        with open(cfg_path, "w") as f:
            json.dump(cfg, f)
        out = os.path.join(tmp, "out")
        subprocess.run([args.gdlab, "decentral", "run", "--config", cfg_path, "--out", out,
                        "--shards", tmp, "--backend", "threads"], check=True,
                       stdout=subprocess.DEVNULL)
        with open(os.path.join(out, "result.json")) as f:
            theirs = np.array(json.load(f)["runs"][0]["trace"]["err_agents"])
    rel = np.max(np.abs(theirs - ours) / np.abs(ours))
    print(f"{'T-DGD (k = s)' if k else 'DGD-ATC'}, ring-{m}, d = {d}, {rounds} rounds, NumPy seed {args.seed}: "
          f"max relative difference of err_agents(t) = {rel:.2e} "
          f"(min error {ours.min():.6f} at t = {ours.argmin()})")
    return 0 if rel < 1e-8 else 1


def sweep(args):
    d, s, m, n, sigma, alpha, eta, rounds = 1000, 5, 10, 30, 0.5, 1e-6, 0.05, 3000
    rows = []
    for seed in range(args.seeds):
        rng = np.random.default_rng(seed)
        w_star, support, xs, ys = draw(rng, d, s, m, n, sigma, 1.0)
        er = metropolis(er_connected(rng, m, 0.5))
        rg = metropolis(ring(m))
        x_all, y_all = np.vstack(xs), np.concatenate(ys)
        cgd = dgd_atc([x_all], [y_all], np.ones((1, 1)), w_star, alpha, eta, rounds).min()
        e_er = dgd_atc(xs, ys, er, w_star, alpha, eta, rounds).min()
        e_ring = dgd_atc(xs, ys, rg, w_star, alpha, eta, rounds).min()
        orc = np.linalg.norm(oracle_ls(xs, ys, support, d) - w_star)
        rows.append((rho(er), orc, cgd, e_er / cgd, e_ring / cgd))
        print(f"seed {seed:2d}: rho(ER) = {rows[-1][0]:.3f}  oracle = {orc:.4f}  "
              f"E(CGD) = {cgd:.4f}  ER/CGD = {rows[-1][3]:.3f}  ring/CGD = {rows[-1][4]:.3f}",
              flush=True)
    a = np.array(rows)
    for name, col, thr in (("check 1 ER/CGD", 3, 1.35), ("check 2a ring/CGD", 4, 1.8)):
        print(f"{name}: median {np.median(a[:, col]):.3f}, quartiles "
              f"{np.quantile(a[:, col], 0.25):.3f} / {np.quantile(a[:, col], 0.75):.3f}, "
              f"share of seeds over {thr}: {np.mean(a[:, col] > thr):.2f}")
    print(f"oracle error: mean {a[:, 1].mean():.4f} (sigma*sqrt(s/N) = {sigma * np.sqrt(s / (m * n)):.4f})")
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("compare")
    c.add_argument("--gdlab", default="target/release/gdlab")
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--tdgd", action="store_true", help="compare T-DGD (paper rule, k = s) instead")
    w = sub.add_parser("sweep")
    w.add_argument("--seeds", type=int, default=20)
    args = p.parse_args()
    return compare(args) if args.cmd == "compare" else sweep(args)


if __name__ == "__main__":
    sys.exit(main())
