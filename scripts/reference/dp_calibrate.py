#!/usr/bin/env python3
"""Reference noise multipliers for `gdlab privacy calibrate` (issue 5 acceptance).

For each (epsilon, delta) the noise multiplier sigma (sensitivity 1) of ONE Gaussian
release is computed two ways:

1. `dp_accounting` (Google), PLD accountant on a single `GaussianDpEvent`, calibrated with
   `dp_accounting.calibrate_dp_mechanism` (Brent-type bracketed search);
2. the exact analytic Gaussian mechanism (Balle & Wang 2018),
   delta(eps) = Phi(-eps/mu + mu/2) - e^eps Phi(-eps/mu - mu/2), mu = 1/sigma,
   solved by bisection in 60-digit arithmetic with mpmath.

Output: crates/gdlab-privacy/tests/fixtures/dp_calibrate.json

Run (outside CI; needs a throwaway venv):
    python3 -m venv /tmp/dpvenv && /tmp/dpvenv/bin/pip install dp-accounting
    /tmp/dpvenv/bin/python scripts/reference/dp_calibrate.py
"""
import json
import os
import sys

import dp_accounting
import mpmath
from dp_accounting.pld import pld_privacy_accountant

mpmath.mp.dps = 60
CASES = [(0.5, 1e-5), (1.0, 1e-5), (2.0, 1e-6), (8.0, 1e-5)]
PLD_DISCRETIZATION = 1e-4  # value_discretization_interval of the PLD accountant


def analytic_delta(eps, sigma):
    mu = 1 / mpmath.mpf(sigma)
    eps = mpmath.mpf(eps)
    return mpmath.ncdf(-eps / mu + mu / 2) - mpmath.exp(eps) * mpmath.ncdf(-eps / mu - mu / 2)


def analytic_sigma(eps, delta):
    lo, hi = mpmath.mpf("1e-3"), mpmath.mpf(100)
    delta = mpmath.mpf(delta)
    for _ in range(300):
        mid = (lo + hi) / 2
        if analytic_delta(eps, mid) > delta:
            lo = mid
        else:
            hi = mid
    return hi


def pld_sigma(eps, delta, guess):
    def accountant():
        return pld_privacy_accountant.PLDAccountant(
            value_discretization_interval=PLD_DISCRETIZATION)

    return dp_accounting.calibrate_dp_mechanism(
        accountant,
        dp_accounting.GaussianDpEvent,
        eps,
        delta,
        # a bracket around the analytic value keeps the PLD small (a tiny trial sigma
        # makes the privacy-loss grid huge: 17 GB at sigma = 0.01); it only narrows the search
        bracket_interval=dp_accounting.ExplicitBracketInterval(0.5 * guess, 2.0 * guess),
        tol=1e-12,
    )


def main():
    rows = []
    for eps, delta in CASES:
        a = analytic_sigma(eps, delta)
        p = pld_sigma(eps, delta, float(a))
        rows.append({
            "epsilon": eps,
            "delta": delta,
            "sigma_pld": float(p),
            "sigma_analytic": float(a),
            "rel_diff_pld_vs_analytic": float(abs(p - a) / a),
        })
        print(eps, delta, p, float(a), float(abs(p - a) / a), file=sys.stderr)
    out = {
        "source": {
            "script": "scripts/reference/dp_calibrate.py",
            "library": f"dp-accounting {getattr(dp_accounting, '__version__', '0.6.0')} (PLDAccountant, "
                       f"value_discretization_interval={PLD_DISCRETIZATION}, calibrate_dp_mechanism tol=1e-12); "
                       f"mpmath {mpmath.__version__} (60 digits)",
            "command": "/tmp/dpvenv/bin/python scripts/reference/dp_calibrate.py",
            "note": "sigma is the noise multiplier for L2 sensitivity 1, one Gaussian event, no subsampling",
        },
        "cases": rows,
    }
    path = os.path.join(os.path.dirname(__file__), "..", "..", "crates", "gdlab-privacy",
                        "tests", "fixtures", "dp_calibrate.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
