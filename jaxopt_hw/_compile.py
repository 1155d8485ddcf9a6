"""``jax.jit`` with XLA compiler options, leaving out those the installed XLA refuses.

The loop passes XLA:CPU a few options measured to compile or run faster, and the loop
and the sweep pass XLA:GPU one (docs/benchmarks.md). XLA renames and drops such flags between releases (jax 0.11's CPU
compiler has no ``xla_cpu_use_fusion_emitters``), and an option it does not know fails
the compile. A program is compiled with its options first (probing each would cost a
compile); only if that fails with ``INVALID_ARGUMENT`` are the options tried one by one
on a one-line program, and those refused are left out from then on: the program then
compiles with XLA's default for them, as fast or slower, computing the same function.
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


#: ``(platform, name, value)`` of the options asked for, and of those refused, so far.
_REQUESTED: set = set()
_REFUSED: set = set()


def jit_with_options(fun, static_argnames: tuple, platform: str, options: tuple):
    """``jax.jit(fun, static_argnames=…, compiler_options=…)`` with ``options`` but those
    this XLA has refused (see :func:`with_accepted_options`).

    Args:
      fun: the function to jit.
      static_argnames: as for ``jax.jit``.
      platform: the platform the program will run on.
      options: ``(name, value)`` pairs (a tuple: equal requests share one jitted function
        and its cache of compiled programs).

    Returns:
      The jitted function.
    """
    _REQUESTED.update((platform, name, value) for name, value in options)
    kept = tuple(
        (name, value) for name, value in options if (platform, name, value) not in _REFUSED
    )
    return _jit(fun, static_argnames, kept)


@functools.cache
def _jit(fun, static_argnames: tuple, options: tuple):
    return jax.jit(fun, static_argnames=static_argnames, compiler_options=dict(options) or None)


def with_accepted_options(platform: str, attempt):
    """``attempt()``, a call that compiles a program of :func:`jit_with_options` for
    ``platform``; if XLA refuses a compiler option, the options asked for on ``platform``
    are probed (:func:`accepts`), the refused ones left out from then on, and
    ``attempt()`` made again (it must call :func:`jit_with_options` anew).

    Example:
      >>> import numpy as np
      >>> double = lambda x: 2 * x
      >>> with_accepted_options("cpu", lambda: jit_with_options(
      ...     double, (), "cpu", (("xla_cpu_no_such_option", True),))(np.float32(3)))
      Array(6., dtype=float32)
    """
    try:
        return attempt()
    except Exception as error:  # jax.errors.JaxRuntimeError, named differently across jax versions
        if "INVALID_ARGUMENT" not in str(error):
            raise
        refused = {key for key in _REQUESTED - _REFUSED if key[0] == platform and not accepts(*key)}
        if not refused:
            raise
        _REFUSED.update(refused)
        return attempt()
