#!/usr/bin/env python3
"""Reference trajectories for gdlab's sign-based and variance-reduced optimizers (NumPy).

An independent NumPy transcription, written from the pseudocode of the spec
``shared/papers/sign-methods-ssvr.md`` (sections 2.1-2.3 and 6) and the update
rules stated in the issue, NOT from gdlab's Rust code.  All arithmetic is float64.

Conventions (the same ones gdlab documents):

* ``sign(0) = 0`` (``numpy.sign``; as ``torch.sign``).
* signSGD:        x <- x - lr * sign(g)
* Signum:         m <- beta * m + (1 - beta) * g  with m_0 = 0 (no bias correction),
                  x <- x - lr * sign(m)                    (beta = "momentum")
* sign_momentum:  heavy ball on signs, b_0 = sign(g_0), b <- mu * b + sign(g),
                  x <- x - lr * b
* normalized_gd:  d = g / ||g||_2 (global norm, d = 0 when g = 0), heavy ball as above
                  (b_0 = d_0), x <- x - lr * b
* rescaled_sign:  d = sign(g) * ||g||_1, heavy ball as above, x <- x - lr * b
* SSVR (spec 2.2), beta = weight of the fresh gradient:
      v_0 = g_0                              (the B_0-sample mean, given)
      v_t = g_t + (1 - beta) * (v_{t-1} - g_prev_t)     t >= 1
      x_{t+1} = x_t - lr * sign(v_t)
  where g_t = grad f(x_t; xi_t) and g_prev_t = grad f(x_{t-1}; xi_t) on the same xi_t.
* SSVR-FS (spec 2.3), checkpoint every I = period steps (0-based t, t % I == 0):
      checkpoint:  x_snap = x_t, mu = full gradient at x_t (row mu_t)
                   reset_at_checkpoint (or t = 0):  v_t = mu
                   otherwise the recursion keeps running; the SVRG term at the
                   snapshot x_snap = x_t is g - g + mu = mu exactly:
                       v_t = (1 - beta) * (v_{t-1} + g_t - g_prev_t) + beta * mu
      else:        v_t = (1 - beta) * (v_{t-1} + g_t - g_prev_t)
                         + beta * (g_t - g_snap_t + mu)
      x_{t+1} = x_t - lr * sign(v_t)
  beta = 0 is SARAH/SPIDER, beta = 1 is SVRG.

Input convention (the one ``gdlab optim replay`` uses)
-----------------------------------------------------
Gradients are *given*, not computed from a loss:

* transform-only methods: ``grads`` has shape (n_steps, dim), row t = g_t;
* ``ssvr``: shape (n_steps, 2, dim), rows [g_t, g_prev_t] (g_prev_0 is ignored);
* ``ssvr_fs``: shape (n_steps, 4, dim), rows [g_t, g_prev_t, g_snap_t, mu_t]
  (mu_t is used only at checkpoints; at a reset checkpoint the other three rows
  are ignored; at a non-reset checkpoint g_snap_t is ignored because x_snap = x_t).

Inputs come from ``numpy.random.default_rng(seed)``: params0 ~ N(0, 1) of shape
(6,), then the gradient array ~ N(0, 1), drawn in that order.  Exact zeros are
planted afterwards (see ``plant_zeros``): coordinate 4 is zero in every row of
every step (so every sign method leaves it where it is), coordinate 1 is zero in
steps 0, 3 and 7, and for transform-only methods the whole gradient of step 5 is
zero (normalized_gd must give 0, not NaN).  Each case records
``min_abs_direction``, the smallest non-zero |direction| fed to sign() (or, for
normalized_gd / rescaled_sign, |g_i|), and the script asserts it is >= 1e-4, so
an f32 replay cannot flip a sign through rounding.

If torch is importable, signSGD and Signum are also run with torch ops
(``p -= lr * torch.sign(...)``) in float64 and asserted equal to the NumPy
trajectories (|diff| <= 1e-15 * |x|); the torch version is recorded in ``source``.

Output
------
JSON on stdout:

    {"source": {...provenance...},
     "cases": [{"name", "method", "hyper", "spec", "rows",
                "params0": [6], "grads": [...], "params": [n_steps x [6]],
                "min_abs_direction"}, ...]}

``params[t]`` are the parameters AFTER step t.  ``spec`` is gdlab's SPEC string.

With ``--write-cli-fixtures DIR`` it also writes replay inputs for the CLI
tests (from the cases ``ssvr_beta0.1`` and ``ssvr_fs_blend_reset``):

* ``sign_vr_params.json`` / ``.npy``         params0, shape (6,), f64
* ``ssvr_grads.json`` / ``ssvr_grads.npy``  shape (12, 2, 6), f64, C order
* ``ssvr_grads_fortran.npy``                the same array in Fortran order
* ``ssvr_grads_f32.npy``                    the same array cast to f32
* ``ssvr_fs_grads.json`` / ``.npy``         shape (12, 4, 6), f64
* ``ssvr_grads_bad.npy``                    shape (12, 3, 6): deliberately mis-shaped

Regenerate (from the repository root; a throwaway venv outside the repo,
``python3 -m venv /tmp/npvenv && /tmp/npvenv/bin/pip install numpy``, or
/tmp/refvenv which also has torch for the cross-check):

    /tmp/refvenv/bin/python scripts/reference/sign_vr_numpy.py \\
        --write-cli-fixtures crates/gdlab-cli/tests/fixtures \\
        > crates/gdlab-optim/tests/fixtures/numpy_sign_vr.json
"""

import argparse
import json
import math
import os
import platform
import sys

import numpy as np

DIM = 6
N_STEPS = 12
MIN_ABS_DIRECTION = 1e-4

COMMAND = (
    "/tmp/refvenv/bin/python scripts/reference/sign_vr_numpy.py"
    " --write-cli-fixtures crates/gdlab-cli/tests/fixtures"
    " > crates/gdlab-optim/tests/fixtures/numpy_sign_vr.json"
)

ROWS = {
    "plain": ["g_t"],
    "ssvr": ["g_t", "g_prev_t"],
    "ssvr_fs": ["g_t", "g_prev_t", "g_snap_t", "mu_t"],
}

# (name, method, seed, hyperparameters).  Key names and order are gdlab's SPEC keys.
CASES = [
    ("sign_sgd", "sign_sgd", 401, dict(lr=0.01)),
    ("signum", "signum", 402, dict(lr=0.01, momentum=0.9)),
    ("signum_m0.5", "signum", 403, dict(lr=0.05, momentum=0.5)),
    ("sign_momentum", "sign_momentum", 404, dict(lr=0.01, momentum=0.9)),
    ("sign_momentum_m0", "sign_momentum", 405, dict(lr=0.02, momentum=0.0)),
    ("normalized_gd", "normalized_gd", 406, dict(lr=0.1, momentum=0.0)),
    ("normalized_gd_m0.9", "normalized_gd", 407, dict(lr=0.1, momentum=0.9)),
    ("rescaled_sign", "rescaled_sign", 408, dict(lr=0.01, momentum=0.0)),
    ("rescaled_sign_m0.5", "rescaled_sign", 409, dict(lr=0.01, momentum=0.5)),
    ("ssvr_beta0.1", "ssvr", 501, dict(lr=0.01, beta=0.1)),
    ("ssvr_beta0.5", "ssvr", 502, dict(lr=0.02, beta=0.5)),
    ("ssvr_beta1", "ssvr", 503, dict(lr=0.01, beta=1.0)),
    ("ssvr_fs_blend_reset", "ssvr_fs", 601,
     dict(lr=0.01, beta=0.1, period=4, reset_at_checkpoint=True)),
    ("ssvr_fs_blend_continue", "ssvr_fs", 602,
     dict(lr=0.01, beta=0.1, period=4, reset_at_checkpoint=False)),
    ("ssvr_fs_sarah_reset", "ssvr_fs", 603,
     dict(lr=0.01, beta=0.0, period=4, reset_at_checkpoint=True)),
    ("ssvr_fs_sarah_continue", "ssvr_fs", 604,
     dict(lr=0.01, beta=0.0, period=4, reset_at_checkpoint=False)),
    ("ssvr_fs_svrg_reset", "ssvr_fs", 605,
     dict(lr=0.01, beta=1.0, period=4, reset_at_checkpoint=True)),
    ("ssvr_fs_blend0.3_p5_continue", "ssvr_fs", 606,
     dict(lr=0.02, beta=0.3, period=5, reset_at_checkpoint=False)),
]

CLI_SSVR = "ssvr_beta0.1"
CLI_SSVR_FS = "ssvr_fs_blend_reset"


def kind(method):
    return method if method in ("ssvr", "ssvr_fs") else "plain"


def plant_zeros(method, grads):
    """Exact zeros: coordinate 4 everywhere, coordinate 1 at steps 0, 3, 7;
    transform-only methods also get an all-zero gradient at step 5."""
    grads[..., 4] = 0.0
    grads[[0, 3, 7], ..., 1] = 0.0
    if kind(method) == "plain":
        grads[5, :] = 0.0


def case_inputs(method, seed):
    rng = np.random.default_rng(seed)
    params0 = rng.standard_normal(DIM)
    k = len(ROWS[kind(method)])
    shape = (N_STEPS, DIM) if k == 1 else (N_STEPS, k, DIM)
    grads = rng.standard_normal(shape)
    plant_zeros(method, grads)
    return params0, grads


class DirectionLog:
    """Smallest non-zero |value| whose sign decides a step."""

    def __init__(self):
        self.smallest = math.inf

    def see(self, values):
        nz = np.abs(values[values != 0.0])
        if nz.size:
            self.smallest = min(self.smallest, float(nz.min()))


# ---------------------------------------------------------------- transcriptions


def sign_sgd(x0, grads, lr, log):
    x = x0.copy()
    out = []
    for g in grads:
        log.see(g)
        x = x - lr * np.sign(g)
        out.append(x.copy())
    return out


def signum(x0, grads, lr, momentum, log):
    x = x0.copy()
    m = np.zeros_like(x0)
    out = []
    for g in grads:
        m = momentum * m + (1.0 - momentum) * g
        log.see(m)
        x = x - lr * np.sign(m)
        out.append(x.copy())
    return out


def heavy_ball(x0, directions, lr, momentum):
    """b_0 = d_0, b_t = mu * b_{t-1} + d_t, x <- x - lr * b (PyTorch SGD, no dampening)."""
    x = x0.copy()
    b = None
    out = []
    for d in directions:
        b = d.copy() if b is None else momentum * b + d
        x = x - lr * b
        out.append(x.copy())
    return out


def sign_momentum(x0, grads, lr, momentum, log):
    for g in grads:
        log.see(g)
    return heavy_ball(x0, [np.sign(g) for g in grads], lr, momentum)


def normalized_gd(x0, grads, lr, momentum, log):
    dirs = []
    for g in grads:
        log.see(g)
        n = math.sqrt(float(np.sum(g * g)))
        dirs.append(g / n if n > 0.0 else np.zeros_like(g))
    return heavy_ball(x0, dirs, lr, momentum)


def rescaled_sign(x0, grads, lr, momentum, log):
    dirs = []
    for g in grads:
        log.see(g)
        dirs.append(np.sign(g) * float(np.sum(np.abs(g))))
    return heavy_ball(x0, dirs, lr, momentum)


def ssvr(x0, grads, lr, beta, log):
    """Spec 2.2: v_1 = g(x_1); v_t = g(x_t) + (1 - beta)(v_{t-1} - g(x_{t-1})); sign step."""
    x = x0.copy()
    v = None
    out = []
    for t, (g, g_prev) in enumerate(grads):
        if t == 0:
            v = g.copy()
        else:
            v = g + (1.0 - beta) * (v - g_prev)
        log.see(v)
        x = x - lr * np.sign(v)
        out.append(x.copy())
    return out


def ssvr_fs(x0, grads, lr, beta, period, reset_at_checkpoint, log):
    """Spec 2.3, the blended estimator with checkpoints every `period` steps."""
    x = x0.copy()
    v = None
    mu = None
    out = []
    for t, (g, g_prev, g_snap, mu_t) in enumerate(grads):
        if t % period == 0:
            # x_snap = x_t (not needed further: g_snap rows are given), mu = full gradient.
            mu = mu_t.copy()
            if reset_at_checkpoint or v is None:
                v = mu.copy()
            else:
                v = (1.0 - beta) * (v + g - g_prev) + beta * mu
        else:
            v = (1.0 - beta) * (v + g - g_prev) + beta * (g - g_snap + mu)
        log.see(v)
        x = x - lr * np.sign(v)
        out.append(x.copy())
    return out


def run(method, hyper, params0, grads, log):
    lr = hyper["lr"]
    if method == "sign_sgd":
        return sign_sgd(params0, grads, lr, log)
    if method == "signum":
        return signum(params0, grads, lr, hyper["momentum"], log)
    if method == "sign_momentum":
        return sign_momentum(params0, grads, lr, hyper["momentum"], log)
    if method == "normalized_gd":
        return normalized_gd(params0, grads, lr, hyper["momentum"], log)
    if method == "rescaled_sign":
        return rescaled_sign(params0, grads, lr, hyper["momentum"], log)
    if method == "ssvr":
        return ssvr(params0, grads, lr, hyper["beta"], log)
    if method == "ssvr_fs":
        return ssvr_fs(
            params0, grads, lr, hyper["beta"], hyper["period"],
            hyper["reset_at_checkpoint"], log,
        )
    raise ValueError(method)


# ------------------------------------------------------------- torch cross-check


def torch_cross_check(cases):
    """signSGD and Signum with torch ops; returns torch's version or None."""
    try:
        import torch
    except ImportError:
        return None
    for c in cases:
        if c["method"] not in ("sign_sgd", "signum"):
            continue
        lr = c["hyper"]["lr"]
        p = torch.tensor(c["params0"], dtype=torch.float64)
        m = torch.zeros_like(p)
        for t, g in enumerate(c["grads"]):
            g = torch.tensor(g, dtype=torch.float64)
            if c["method"] == "sign_sgd":
                p -= lr * torch.sign(g)
            else:
                beta = c["hyper"]["momentum"]
                m.mul_(beta).add_(g, alpha=1.0 - beta)
                p -= lr * torch.sign(m)
            ref = np.array(c["params"][t])
            assert np.all(np.abs(p.numpy() - ref) <= 1e-15 * np.abs(ref)), (c["name"], t)
    return torch.__version__


# -------------------------------------------------------------------- output


def fmt_value(v):
    """SPEC formatting: true/false, 0 not 0.0, 1e-8 not 1e-08."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    text = repr(float(v))
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    return text


def spec_string(method, hyper):
    return method + "(" + ",".join(f"{k}={fmt_value(v)}" for k, v in hyper.items()) + ")"


def make_case(name, method, seed, hyper):
    params0, grads = case_inputs(method, seed)
    log = DirectionLog()
    traj = run(method, hyper, params0, grads, log)
    assert log.smallest >= MIN_ABS_DIRECTION, (name, log.smallest)
    for row in traj:
        assert np.all(np.isfinite(row)), name
    return {
        "name": name,
        "method": method,
        "hyper": hyper,
        "spec": spec_string(method, hyper),
        "rows": ROWS[kind(method)],
        "params0": params0.tolist(),
        "grads": grads.tolist(),
        "params": [r.tolist() for r in traj],
        "min_abs_direction": log.smallest,
    }


def write_cli_fixtures(directory, cases):
    by_name = {c["name"]: c for c in cases}
    ssvr_case, fs_case = by_name[CLI_SSVR], by_name[CLI_SSVR_FS]
    # The two cases have different seeds, hence their own params0 files.
    os.makedirs(directory, exist_ok=True)

    def dump_json(filename, value):
        with open(os.path.join(directory, filename), "w") as f:
            json.dump(value, f, allow_nan=False)
            f.write("\n")

    p0 = np.array(ssvr_case["params0"], dtype=np.float64)
    g = np.array(ssvr_case["grads"], dtype=np.float64)
    fs_p0 = np.array(fs_case["params0"], dtype=np.float64)
    fs_g = np.array(fs_case["grads"], dtype=np.float64)
    assert g.shape == (N_STEPS, 2, DIM) and fs_g.shape == (N_STEPS, 4, DIM)
    dump_json("sign_vr_params.json", p0.tolist())
    np.save(os.path.join(directory, "sign_vr_params.npy"), p0)
    dump_json("ssvr_grads.json", g.tolist())
    np.save(os.path.join(directory, "ssvr_grads.npy"), np.ascontiguousarray(g))
    np.save(os.path.join(directory, "ssvr_grads_fortran.npy"), np.asfortranarray(g))
    np.save(os.path.join(directory, "ssvr_grads_f32.npy"), g.astype(np.float32))
    dump_json("ssvr_fs_params.json", fs_p0.tolist())
    dump_json("ssvr_fs_grads.json", fs_g.tolist())
    np.save(os.path.join(directory, "ssvr_fs_grads.npy"), np.ascontiguousarray(fs_g))
    # Deliberately mis-shaped: 3 rows per step (neither ssvr's 2 nor ssvr_fs's 4).
    np.save(os.path.join(directory, "ssvr_grads_bad.npy"), np.ascontiguousarray(fs_g[:, :3, :]))
    print(f"wrote CLI replay fixtures to {directory}", file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write-cli-fixtures", metavar="DIR")
    args = parser.parse_args()

    cases = [make_case(*c) for c in CASES]
    torch_version = torch_cross_check(cases)
    source = {
        "script": "scripts/reference/sign_vr_numpy.py",
        "library": "numpy",
        "version": np.__version__,
        "python": platform.python_version(),
        "dtype": "float64",
        "command": COMMAND,
        "spec": "shared/papers/sign-methods-ssvr.md sections 2.1-2.3 (pseudocode transcribed)",
    }
    if torch_version is not None:
        source["cross_check"] = (
            f"sign_sgd and signum re-run with torch {torch_version} ops (float64): "
            "equal within 1e-15 relative"
        )
    json.dump({"source": source, "cases": cases}, sys.stdout, indent=1, allow_nan=False)
    sys.stdout.write("\n")
    if args.write_cli_fixtures:
        write_cli_fixtures(args.write_cli_fixtures, cases)


if __name__ == "__main__":
    main()
