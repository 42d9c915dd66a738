#!/usr/bin/env python3
"""SαS(α = 1.5) samples from scipy.stats.levy_stable and a NumPy transcription of the
reference tail-index estimator, for `gdlab diagnostics tail-index` (issue 8 acceptance).

1. Draws N = 10 000 samples of levy_stable(alpha=1.5, beta=0, loc=0, scale=1)
   (β = 0: the S0 and S1 parameterizations agree; characteristic function exp(-|t|^1.5)),
   random_state = 20201206, and writes them one per line to
   crates/gdlab-diagnostics/tests/fixtures/levy_stable_1p5.csv (with '#' source lines).
2. Re-implements, independently of the Rust code, the authors' `alpha_estimator(m, X)`
   (Mohammadi-Mohammadpour-Ogata Cor. 2.4, src/utils.py of
   umutsimsekli/Hausdorff-Dimension-and-Generalization, spec section 2.1) and
   `get_5_good_fiv` (spec section 2.3), and applies them to the time-centred column
   (the projected estimator on a single column: any unit direction is +-1, which leaves
   norms unchanged). Writes the plan and per-K1 values to levy_stable_1p5.json.

Run (outside CI; throwaway venv):
    python3 -m venv /work/venv-issue8 && /work/venv-issue8/bin/pip install numpy scipy
    /work/venv-issue8/bin/python scripts/reference/levy_stable_fixture.py
"""
import json
import math
import os

import numpy as np
import scipy
from scipy.stats import levy_stable

ALPHA = 1.5
N = 10_000
SEED = 20201206
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "crates", "gdlab-diagnostics", "tests", "fixtures")


def alpha_estimator(m, x):
    """MMO Cor. 2.4 on K x p samples, blocks of m consecutive rows (the authors' code)."""
    n = x.shape[0]
    k2 = n // m
    eps = np.finfo(float).eps
    y = np.sum(x.reshape(k2, m, -1), axis=1)
    y_log_norm = np.log(np.linalg.norm(y, axis=1) + eps).mean()
    x_log_norm = np.log(np.linalg.norm(x, axis=1) + eps).mean()
    diff = (y_log_norm - x_log_norm) / math.log(m)
    return 1.0 / diff


def get_5_good_fiv(x):
    """Walk x down until it has more than 5 divisors in [2, floor(sqrt(x)) - 1]."""
    while True:
        divs = [d for d in range(2, math.isqrt(x)) if x % d == 0]
        if len(divs) > 5:
            break
        x -= 1
    step = math.ceil(len(divs) / 4)
    k1s = divs[::step]
    if k1s[-1] != divs[-1]:
        k1s.append(divs[-1])
    return x, k1s


def main():
    samples = levy_stable.rvs(ALPHA, 0.0, loc=0.0, scale=1.0, size=N, random_state=SEED)
    source = {
        "script": "scripts/reference/levy_stable_fixture.py",
        "library": f"scipy {scipy.__version__}, numpy {np.__version__}",
        "command": "/work/venv-issue8/bin/python scripts/reference/levy_stable_fixture.py",
        "distribution": f"scipy.stats.levy_stable(alpha={ALPHA}, beta=0, loc=0, scale=1)",
        "random_state": SEED,
    }
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "levy_stable_1p5.csv"), "w") as f:
        f.write(f"# source: {json.dumps(source)}\n")
        f.write("# one SaS(1.5) sample per row (rows = time steps, one column)\n")
        for v in samples:
            f.write(f"{float(v)!r}\n")
    z = samples - samples.mean()
    sz, k1s = get_5_good_fiv(len(z))
    tail = z[-sz:].reshape(-1, 1)
    per_k1 = [[k, alpha_estimator(k, tail)] for k in k1s]
    fixture = {
        "source": source,
        "n": N,
        "alpha": ALPHA,
        "sz": sz,
        "k1s": k1s,
        "per_k1": per_k1,
        "median_over_k1": float(np.median([v for _, v in per_k1])),
    }
    with open(os.path.join(OUT, "levy_stable_1p5.json"), "w") as f:
        json.dump(fixture, f, indent=1)
        f.write("\n")
    print(json.dumps({k: fixture[k] for k in ("sz", "k1s", "per_k1", "median_over_k1")}))


if __name__ == "__main__":
    main()
