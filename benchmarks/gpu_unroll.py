"""Measurement behind ``loop._SCAN_UNROLL`` and the sweep's state layout: the 1 024-config
Adam sweep of ``bench_sweep.py`` with the innermost scan unrolled 1, 4 or 16 steps, and
(unrolled 1) with the configs on the major axis of the state instead of the minor one
(``FastForms.sets_minor``, measured on a CPU only so far), next to the expert's
``jit(vmap(scan))``, and how much of a call is the compiled program
(``meta["run_seconds"]``) rather than host work. Written for a GPU; runs anywhere.

Usage::

    python benchmarks/gpu_unroll.py
"""

import dataclasses
import sys
import time

import jax

sys.path.insert(0, "benchmarks")
from bench_loop import steady  # noqa: E402
from bench_sweep import BATCH, STEPS, grid, make_expert  # noqa: E402

import jaxopt_hw as jh  # noqa: E402
from jaxopt_hw import _compile, loop  # noqa: E402


def main():
    for n, d in [(10_000, 5), (10_000, 100)]:
        prob = jh.linear_regression(n, d)
        jax.block_until_ready(prob.X)
        print(f"({n},{d}) expert {steady(make_expert(prob), 5)[0] * 1e3:.2f} ms", flush=True)
        major = dataclasses.replace(prob, forms=dataclasses.replace(prob.forms, sets_minor=False))
        for unroll, layout, problem in [
            (1, "minor", prob),
            (1, "major", major),
            (4, "minor", prob),
            (16, "minor", prob),
        ]:
            loop._SCAN_UNROLL = unroll
            jax.clear_caches()
            _compile._jit.cache_clear()
            for log_every in (STEPS, 1):

                def sweep():
                    return jh.sweep(
                        problem,
                        jh.adam,
                        grid=grid(),
                        steps=STEPS,
                        batch_size=BATCH,
                        log_every=log_every,
                        progress=False,
                    )

                start = time.perf_counter()
                sweep()
                first = time.perf_counter() - start
                print(
                    f"({n},{d}) unroll {unroll} configs {layout} log_every {log_every}: "
                    f"{steady(sweep, 5)[0] * 1e3:.2f} ms, first {first:.2f} s, "
                    f"program {sweep().meta['run_seconds'] * 1e3:.2f} ms",
                    flush=True,
                )
    loop._SCAN_UNROLL = 1


if __name__ == "__main__":
    main()
