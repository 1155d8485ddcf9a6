"""``jax.jit`` with XLA compiler options, keeping those the installed XLA accepts.

The loop and the sweep pass XLA:CPU a few options measured to compile or run faster
(docs/benchmarks.md). XLA renames and drops such flags between releases (jax 0.11's CPU
compiler has no ``xla_cpu_use_fusion_emitters``), and an option it does not know fails
the compile. So each option is tried once per platform on a one-line program and left
out if refused: the program then compiles with XLA's default for it, as fast or slower,
computing the same function.
"""

from __future__ import annotations

import functools

import jax
import numpy as np


#: On GPUs: no autotuning of the products. XLA otherwise times several float32 GEMM
#: kernels for every product shape when it compiles (on an H200 the first call of a
#: d = 100 sweep took 12.3 s more than the next, 1.4 s without), for products of a few µs, and
#: the kernel it picks, hence the rounding, can change from one process to the next.
GPU_OPTIONS = (("xla_gpu_autotune_level", 0),)


def platform_options(platform: str, cpu_options: tuple = ()) -> tuple:
    """``cpu_options`` on CPUs, :data:`GPU_OPTIONS` on GPUs, none elsewhere."""
    return {"cpu": cpu_options, "gpu": GPU_OPTIONS}.get(platform, ())


@functools.cache
def accepts(platform: str, name: str, value) -> bool:
    """Whether ``platform``'s XLA compiler takes the compiler option ``name=value``.

    Args:
      platform: ``"cpu"``, ``"gpu"``, … (a platform with a local device).
      name, value: the option, as ``jax.jit(compiler_options={name: value})`` takes it.

    Returns:
      ``False`` if compiling a one-line program with it fails with ``INVALID_ARGUMENT``
      (an unknown option or a value it cannot parse), else ``True``.

    Example:
      >>> accepts("cpu", "xla_cpu_no_such_option", True)
      False
    """
    device = jax.local_devices(backend=platform)[0]
    probe = jax.jit(lambda x: x + 1).lower(jax.device_put(np.float32(0), device))
    try:
        probe.compile(compiler_options={name: value})
    except Exception as error:  # jax.errors.JaxRuntimeError, named differently across jax versions
        if "INVALID_ARGUMENT" in str(error):
            return False
        raise
    return True


@functools.cache
def jit_with_options(fun, static_argnames: tuple, platform: str, options: tuple):
    """``jax.jit(fun, static_argnames=…, compiler_options=…)`` with the options that
    ``platform``'s compiler accepts (see :func:`accepts`).

    Args:
      fun: the function to jit.
      static_argnames: as for ``jax.jit``.
      platform: the platform the program will run on.
      options: ``(name, value)`` pairs (a tuple, so that equal requests share one jitted
        function and its cache of compiled programs).

    Returns:
      The jitted function.
    """
    accepted = {name: value for name, value in options if accepts(platform, name, value)}
    return jax.jit(fun, static_argnames=static_argnames, compiler_options=accepted or None)
