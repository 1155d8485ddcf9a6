"""How the command sets JAX up: the CPU cores as devices and the compilation cache."""

from __future__ import annotations

import os
from pathlib import Path


def use_cores(count=None) -> None:
    """Presents the CPU cores to JAX as devices (:func:`jaxopt_hw.use_cpu_cores`).

    It presents ``count`` of them, or by default all, unless ``JAX_NUM_CPU_DEVICES`` or
    ``XLA_FLAGS`` already say how many, or JAX is already running in this process.
    """
    import jaxopt_hw as jh

    if count is None and (
        "JAX_NUM_CPU_DEVICES" in os.environ
        or "xla_force_host_platform_device_count" in os.environ.get("XLA_FLAGS", "")
    ):
        return
    try:
        jh.use_cpu_cores(count)
    except RuntimeError:
        if count is not None:
            raise


def enable_compilation_cache(path=None) -> Path:
    """Switches on JAX's persistent compilation cache (every compiled program is kept)."""
    import jax

    path = Path(
        path or os.environ.get("JAXOPT_HW_CACHE") or Path.home() / ".cache" / "jaxopt_hw" / "xla"
    )
    path.mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return path
