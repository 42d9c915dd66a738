#!/usr/bin/env python3
"""Optimizer steps on CPU: gdlab against PyTorch, same machine, same run.

Times, at one size (default 10^7 coordinates, float32):

* torch.optim.Adam with foreach=True and with fused=True (fused CPU Adam exists since
  torch 2.4; if the installed torch rejects it, the table says "unsupported");
* a sign step written with torch ops: ``p.add_(torch.sign(g), alpha=-lr)``;
* ``gdlab bench optim --optimizer adam|sign_sgd|signum|ssvr --json`` and
  ``gdlab bench triad --json`` (the STREAM triad a <- b + s*c, the bandwidth reference);

and prints each side's seconds per step, effective GB/s and the ratios.

Byte accounting (the same for both sides, so GB/s compare like seconds): every buffer a
step must read or write, once, 4 bytes per f32 coordinate; write-allocate traffic is not
counted (the STREAM convention). Adam: read g, m, v, p; write m, v, p = 7 buffers.
Sign step: read g, p; write p = 3 buffers. Triad: read b, c; write a = 3 buffers.
(torch's sign step also writes and reads a temporary, torch.sign(g); that traffic is real
but not counted: the accounting is what the step must move.) GB = 10^9 bytes.

Each timing is the median over --steps steps after 3 warm-up steps; the whole set is run
--rounds times, interleaved, and the best round's median is kept for every row (this
damps interference from other processes; the load average is printed before and after).

Run from the repository root, after `cargo build --release -p gdlab-cli`:

    /tmp/refvenv/bin/python benches/peers/optim.py --dim 10000000 --threads 1

Exit status: 0 when everything ran (whether or not the targets were met), 2 when the
gdlab binary is missing or a measurement failed.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

LEARNING_RATE = 1e-3  # the same as `gdlab bench` (cmd_bench.rs)
WARMUP_STEPS = 3
F32 = 4


def median_seconds(step, steps):
    for _ in range(WARMUP_STEPS):
        step()
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def torch_timers(torch, dim, steps):
    """name -> (zero-argument function returning seconds/step, or None if unsupported)."""
    gen = torch.Generator().manual_seed(0)

    def fresh():
        p = torch.nn.Parameter(torch.rand(dim, generator=gen) * 2 - 1)
        p.grad = torch.rand(dim, generator=gen) * 2 - 1
        return p

    timers = {}

    def adam(**kw):
        p = fresh()
        try:
            opt = torch.optim.Adam([p], lr=LEARNING_RATE, **kw)
            opt.step()
        except (RuntimeError, ValueError, TypeError) as e:
            return None, f"unsupported: {e}".splitlines()[0][:80]
        return (lambda: median_seconds(opt.step, steps)), None

    timers["adam/foreach"] = adam(foreach=True)
    timers["adam/fused"] = adam(fused=True)

    p = fresh()
    g = p.grad

    def sign_step():
        with torch.no_grad():
            p.add_(torch.sign(g), alpha=-LEARNING_RATE)

    timers["sign/torch-ops"] = ((lambda: median_seconds(sign_step, steps)), None)

    a = torch.zeros(dim)
    b = torch.rand(dim, generator=gen)
    c = torch.rand(dim, generator=gen)
    timers["triad/torch"] = (
        (lambda: median_seconds(lambda: torch.add(b, c, alpha=3.0, out=a), steps)),
        None,
    )
    return timers


def gdlab_run(binary, args):
    cmd = [binary, "bench", *args, "--json"]
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if res.returncode != 0:
        sys.exit(f"error: `{' '.join(cmd)}` failed ({res.returncode}): {res.stderr.strip()}")
    return json.loads(res.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dim", type=int, default=10_000_000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--binary", default="target/release/gdlab")
    opts = ap.parse_args()
    if not (os.path.isfile(opts.binary) and os.access(opts.binary, os.X_OK)):
        print(
            f"error: gdlab binary not found at {opts.binary}; "
            "build it with `cargo build --release -p gdlab-cli` (run from the repo root)",
            file=sys.stderr,
        )
        return 2

    import torch

    torch.set_num_threads(opts.threads)
    dim, steps = opts.dim, opts.steps
    common = ["--dim", str(dim), "--dtype", "f32", "--threads", str(opts.threads), "--steps", str(steps)]
    load_before = os.getloadavg()

    timers = torch_timers(torch, dim, steps)
    best = {}

    def keep(name, seconds):
        best[name] = min(best.get(name, float("inf")), seconds)

    for _ in range(opts.rounds):
        keep("triad/gdlab", gdlab_run(opts.binary, ["triad", *common])["seconds_per_step"])
        for name, (timer, _) in timers.items():
            if timer is not None:
                keep(name, timer())
        for opt in ["adam", "sign_sgd", "signum", "ssvr"]:
            j = gdlab_run(opts.binary, ["optim", "--optimizer", opt, *common])
            keep(f"{opt}/gdlab", j["seconds_per_step"])
    load_after = os.getloadavg()

    buffers = {"adam": 7, "sign": 3, "sign_sgd": 3, "signum": 5, "ssvr": 6, "triad": 3}

    def gbps(name):
        return buffers[name.split("/")[0]] * F32 * dim / best[name] / 1e9

    triad = gbps("triad/gdlab")
    print(f"# gdlab vs PyTorch, CPU optimizer steps, dim = {dim}, float32, threads = {opts.threads}")
    print(
        f"machine: {platform.machine()} {platform.processor() or ''} {os.cpu_count()} logical CPUs; "
        f"torch {torch.__version__} ({torch.backends.cpu.get_cpu_capability()}), "
        f"python {platform.python_version()}"
    )
    print(
        "load average before/after: "
        + " ".join(f"{x:.2f}" for x in load_before)
        + " / "
        + " ".join(f"{x:.2f}" for x in load_after)
    )
    print(
        f"each row: best of {opts.rounds} rounds of the median of {steps} steps after "
        f"{WARMUP_STEPS} warm-up steps"
    )
    print(
        "bytes/step: adam 7, sign 3, signum 5, ssvr 6, triad 3 buffers x 4 B x dim "
        "(reads + writes a step must make; STREAM convention)"
    )
    print()
    print(f"| {'row':<16} | {'ms/step':>9} | {'GB/s':>7} | {'% of triad':>10} | note")
    print(f"|{'-' * 18}|{'-' * 11}|{'-' * 9}|{'-' * 12}|------")
    rows = [
        ("triad/gdlab", "a <- b + 3c (gdlab bench triad)"),
        ("triad/torch", "torch.add(b, c, alpha=3, out=a)"),
        ("adam/gdlab", "gdlab bench optim --optimizer adam (fused step)"),
        ("adam/fused", "torch.optim.Adam(fused=True)"),
        ("adam/foreach", "torch.optim.Adam(foreach=True)"),
        ("sign_sgd/gdlab", "gdlab bench optim --optimizer sign_sgd"),
        ("sign/torch-ops", "p.add_(torch.sign(g), alpha=-lr)"),
        ("signum/gdlab", "gdlab bench optim --optimizer signum (no torch peer)"),
        ("ssvr/gdlab", "gdlab bench optim --optimizer ssvr (no torch peer)"),
    ]
    for name, note in rows:
        if name in best:
            g = gbps(name)
            print(f"| {name:<16} | {best[name] * 1e3:9.3f} | {g:7.2f} | {100 * g / triad:9.1f}% | {note}")
        else:
            reason = timers.get(name, (None, "not run"))[1]
            print(f"| {name:<16} | {'-':>9} | {'-':>7} | {'-':>10} | {note}: {reason}")
    print()

    def ratio(torch_row, ours):
        if torch_row not in best:
            return f"{torch_row}: unsupported"
        return f"{torch_row} / gdlab = {best[torch_row] / best[ours]:.2f}x (time ratio; > 1 means gdlab is faster)"

    print("ratios:")
    print("  " + ratio("adam/fused", "adam/gdlab"))
    print("  " + ratio("adam/foreach", "adam/gdlab"))
    print("  " + ratio("sign/torch-ops", "sign_sgd/gdlab"))
    print()
    print("targets (issue 3):")
    for name in ["adam/gdlab", "sign_sgd/gdlab"]:
        share = gbps(name) / triad
        verdict = "met" if share >= 0.8 else "NOT met"
        print(f"  {name} at >= 80% of triad bandwidth: {100 * share:.1f}% -> {verdict}")
    if "adam/fused" in best:
        faster = best["adam/gdlab"] < best["adam/fused"]
        print(
            "  gdlab adam faster than torch fused CPU Adam: "
            f"{best['adam/gdlab'] * 1e3:.3f} vs {best['adam/fused'] * 1e3:.3f} ms -> "
            + ("met" if faster else "NOT met")
        )
    else:
        print("  gdlab adam faster than torch fused CPU Adam: fused CPU Adam unsupported here")
    return 0


if __name__ == "__main__":
    sys.exit(main())
