#!/usr/bin/env python3
"""Reference trajectories for gdlab's optimizer tests, produced with PyTorch.

What it produces
----------------
A JSON document on stdout (float64 throughout) with one entry per case in
``CASES`` below.  Each case replays a fixed sequence of 12 gradients through a
``torch.optim`` optimizer on a single 7-dimensional parameter vector and records
the parameter vector after every step:

    {"source": {...provenance...},
     "cases": [{"name", "optimizer", "hyper", "spec",
                "params0": [7 floats],
                "grads":   [12 x [7 floats]],   # gradient fed at step k
                "params":  [12 x [7 floats]]},  # parameters AFTER step k
               ...]}

Gradients are *given* (replayed via ``p.grad = ...; opt.step()``), not computed
from a loss, so a Rust implementation can feed the same rows and compare.
Every optimizer is built with ``foreach=False`` so torch uses its plain
per-parameter loop implementation.

Inputs come from ``numpy.random.default_rng(seed)`` with a fixed seed per case:
params0 ~ N(0, 1) of shape (7,), then grads ~ N(0, 1) of shape (12, 7), drawn
in that order from the same generator.  Two cases are edited afterwards to cover
edge cases (see ``EDGE_EDITS``):

* ``momentum``: the gradient of step 6 (row index 5) is exactly all zeros.
* ``adam_default``: coordinate 2 is exactly 0.0 in rows 0, 1, 4 and 9, so for
  Adam that coordinate starts with m = v = 0 (update 0 / (0 + eps)).

With ``--write-cli-fixtures DIR`` it additionally writes replay inputs for the
gdlab CLI smoke test, taken from the ``adam_custom`` case:

* ``replay_params.json`` / ``replay_params.npy``  - params0, shape (7,), f64
* ``replay_grads.json``  / ``replay_grads.npy``   - grads, shape (12, 7), f64
* ``replay_grads_f32.npy``                        - grads cast to f32
* ``replay_grads_bad.npy``                        - grads[:, :5], shape (12, 5),
  f64, deliberately mis-shaped (must be rejected)

Regenerate (from the repository root, using a throwaway venv outside the repo
made with ``python3 -m venv /tmp/refvenv && /tmp/refvenv/bin/pip install numpy torch``):

    /tmp/refvenv/bin/python scripts/reference/torch_optim.py > crates/gdlab-optim/tests/fixtures/torch_optim.json

and, for the CLI fixtures as well (stdout is the same JSON either way):

    /tmp/refvenv/bin/python scripts/reference/torch_optim.py \\
        --write-cli-fixtures crates/gdlab-cli/tests/fixtures \\
        > crates/gdlab-optim/tests/fixtures/torch_optim.json
"""

import argparse
import json
import math
import os
import platform
import sys

import numpy as np
import torch

DIM = 7
N_STEPS = 12

# Exactly the command recorded in the output's "source" block.
COMMAND = (
    "/tmp/refvenv/bin/python scripts/reference/torch_optim.py"
    " > crates/gdlab-optim/tests/fixtures/torch_optim.json"
)

# (name, optimizer kind, seed, keyword arguments passed to torch.optim.*)
# Keyword arguments list only what differs from torch's defaults; the full set
# of hyperparameters torch actually used is read back from the optimizer.
CASES = [
    ("sgd_plain", "sgd", 101, dict(lr=0.1)),
    ("sgd_wd", "sgd", 102, dict(lr=0.05, weight_decay=0.01)),
    ("momentum", "sgd", 103, dict(lr=0.1, momentum=0.9)),
    ("momentum_dampening", "sgd", 104, dict(lr=0.1, momentum=0.9, dampening=0.1)),
    ("nesterov", "sgd", 105, dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("momentum_wd", "sgd", 106, dict(lr=0.02, momentum=0.5, weight_decay=0.1)),
    ("adam_default", "adam", 201, dict(lr=1e-3)),
    ("adam_custom", "adam", 202, dict(lr=0.1, betas=(0.8, 0.95), eps=1e-6)),
    ("adam_wd", "adam", 203, dict(lr=0.01, weight_decay=0.1)),
    ("adam_amsgrad", "adam", 204, dict(lr=0.01, amsgrad=True)),
    ("adamw_default", "adamw", 301, dict(lr=1e-3)),
    (
        "adamw_custom",
        "adamw",
        302,
        dict(lr=0.05, betas=(0.9, 0.99), eps=1e-8, weight_decay=0.1),
    ),
]

# Edge-case edits applied to the generated gradients: case name -> function.
def _all_zero_step(grads):
    grads[5, :] = 0.0


def _zero_coordinate(grads):
    grads[[0, 1, 4, 9], 2] = 0.0


EDGE_EDITS = {
    "momentum": _all_zero_step,
    "adam_default": _zero_coordinate,
}

OPTIMIZERS = {
    "sgd": torch.optim.SGD,
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
}

# Output hyperparameter keys, in the order used by both "hyper" and "spec".
HYPER_KEYS = {
    "sgd": ["lr", "momentum", "dampening", "nesterov", "weight_decay"],
    "adam": ["lr", "beta1", "beta2", "eps", "weight_decay", "amsgrad"],
    "adamw": ["lr", "beta1", "beta2", "eps", "weight_decay", "amsgrad"],
}

CLI_CASE = "adam_custom"


def case_inputs(name, seed):
    """Initial parameters (7,) and gradient rows (12, 7) for one case."""
    rng = np.random.default_rng(seed)
    params0 = rng.standard_normal(DIM)
    grads = rng.standard_normal((N_STEPS, DIM))
    if name in EDGE_EDITS:
        EDGE_EDITS[name](grads)
    return params0, grads


def hyper_from_group(kind, group):
    """Hyperparameters torch actually used, under gdlab's key names."""
    if kind == "sgd":
        values = {
            "lr": group["lr"],
            "momentum": group["momentum"],
            "dampening": group["dampening"],
            "nesterov": group["nesterov"],
            "weight_decay": group["weight_decay"],
        }
    else:
        beta1, beta2 = group["betas"]
        values = {
            "lr": group["lr"],
            "beta1": beta1,
            "beta2": beta2,
            "eps": group["eps"],
            "weight_decay": group["weight_decay"],
            "amsgrad": group["amsgrad"],
        }
    # Normalise types: bools stay bools, every number becomes a Python float.
    return {
        k: (bool(v) if isinstance(v, bool) else float(v))
        for k, v in ((k, values[k]) for k in HYPER_KEYS[kind])
    }


def fmt_spec_value(v):
    """Spec-string formatting: true/false, 0 not 0.0, 1e-8 not 1e-08."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    text = repr(float(v))
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    return text


def spec_string(kind, hyper):
    args = ",".join(f"{k}={fmt_spec_value(hyper[k])}" for k in HYPER_KEYS[kind])
    return f"{kind}({args})"


def replay_torch(kind, kwargs, params0, grads, dtype):
    """Parameters after each step of torch.optim on the given gradients, in `dtype`."""
    p = torch.tensor(params0, dtype=dtype, requires_grad=True)
    opt = OPTIMIZERS[kind]([p], foreach=False, **kwargs)
    trajectory = []
    for g in grads:
        p.grad = torch.tensor(g, dtype=dtype)
        opt.step()
        # float32 values widen exactly to Python floats.
        trajectory.append(p.detach().clone().to(torch.float64).tolist())
    return opt, trajectory


def run_case(name, kind, seed, kwargs):
    params0, grads = case_inputs(name, seed)

    opt, trajectory = replay_torch(kind, kwargs, params0, grads, torch.float64)
    # The same inputs rounded to float32, replayed by torch in float32 (its default dtype):
    # gdlab's f32 path is compared with this at rel 1e-6.
    _, trajectory_f32 = replay_torch(
        kind, kwargs, params0.astype(np.float32), grads.astype(np.float32), torch.float32
    )

    hyper = hyper_from_group(kind, opt.param_groups[0])
    return {
        "name": name,
        "optimizer": kind,
        "hyper": hyper,
        "spec": spec_string(kind, hyper),
        "params0": params0.tolist(),
        "grads": grads.tolist(),
        "params": trajectory,
        "params_f32": trajectory_f32,
    }


def write_cli_fixtures(directory):
    """Replay inputs for the CLI smoke test, from the CLI_CASE inputs."""
    seed = next(s for n, _, s, _ in CASES if n == CLI_CASE)
    params0, grads = case_inputs(CLI_CASE, seed)
    os.makedirs(directory, exist_ok=True)

    def dump_json(filename, value):
        with open(os.path.join(directory, filename), "w") as f:
            json.dump(value, f, allow_nan=False)
            f.write("\n")

    dump_json("replay_params.json", params0.tolist())
    dump_json("replay_grads.json", grads.tolist())
    np.save(os.path.join(directory, "replay_params.npy"), params0.astype(np.float64))
    np.save(os.path.join(directory, "replay_grads.npy"), grads.astype(np.float64))
    np.save(os.path.join(directory, "replay_grads_f32.npy"), grads.astype(np.float32))
    # Deliberately mis-shaped: 5 columns instead of 7.
    np.save(
        os.path.join(directory, "replay_grads_bad.npy"),
        np.ascontiguousarray(grads[:, :5], dtype=np.float64),
    )
    print(f"wrote CLI replay fixtures to {directory}", file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--write-cli-fixtures",
        metavar="DIR",
        help="also write replay_params/replay_grads (.json/.npy) into DIR",
    )
    args = parser.parse_args()

    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)

    cases = [run_case(*case) for case in CASES]
    for case in cases:
        for row in case["params"]:
            assert all(math.isfinite(x) for x in row), case["name"]

    doc = {
        "source": {
            "script": "scripts/reference/torch_optim.py",
            "library": "torch",
            "version": torch.__version__,
            "numpy_version": np.__version__,
            "python": platform.python_version(),
            "dtype": "float64 (params), float32 (params_f32, from inputs rounded to float32)",
            "command": COMMAND,
        },
        "cases": cases,
    }
    json.dump(doc, sys.stdout, indent=1, allow_nan=False)
    sys.stdout.write("\n")

    if args.write_cli_fixtures:
        write_cli_fixtures(args.write_cli_fixtures)


if __name__ == "__main__":
    main()
