"""The predicted noise floor of constant-step SGD on least squares (see the study's docstring)."""

from __future__ import annotations

import numpy as np

__all__ = ["noise_moments", "iid_covariance", "iid_excess_loss", "reshuffling_factor"]


def noise_moments(X, y, w_star) -> dict:
    """What the predictions need, in float64: the Hessian ``H = 2XᵀX/n``, the per-sample
    gradient covariance at the optimum ``C = (1/n) Σ g_i g_iᵀ`` with ``g_i = 2x_i(x_iᵀw* − y_i)``,
    and the fourth moment ``F = (1/n) Σ A_i ⊗ A_i`` with ``A_i = 2x_i x_iᵀ`` (``d² × d²``)."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    w_star = np.asarray(w_star, dtype=np.float64)
    n, d = X.shape
    residual = X @ w_star - y
    gradients = 2.0 * X * residual[:, None]
    outer = (X[:, :, None] * X[:, None, :]).reshape(n, d * d)
    return {
        "n": n,
        "H": 2.0 * X.T @ X / n,
        "C": gradients.T @ gradients / n,
        "F": 4.0 * outer.T @ outer / n,
    }


def iid_covariance(
    moments: dict, alpha: float, batch_size: int, multiplicative: bool = True
) -> np.ndarray:
    r"""The stationary ``Σ = E[(w − w*)(w − w*)ᵀ]`` of SGD with batches drawn with replacement:
    the solution of :math:`Σ = (I-αH)Σ(I-αH) + \frac{α^2}{B}[C + F(Σ) - HΣH]` (without the
    bracket's last two terms when ``multiplicative=False``). ``inf`` everywhere when the
    second moment has no stationary solution (the linear map has spectral radius ≥ 1)."""
    H, C = moments["H"], moments["C"]
    d = H.shape[0]
    contraction = np.eye(d) - alpha * H
    operator = np.kron(contraction, contraction)
    if multiplicative:
        operator = operator + alpha**2 / batch_size * (moments["F"] - np.kron(H, H))
    if np.max(np.abs(np.linalg.eigvals(operator))) >= 1.0:
        return np.full((d, d), np.inf)
    vec = np.linalg.solve(np.eye(d * d) - operator, (alpha**2 / batch_size * C).reshape(-1))
    sigma = vec.reshape(d, d)
    return 0.5 * (sigma + sigma.T)


def iid_excess_loss(
    moments: dict, alpha: float, batch_size: int, multiplicative: bool = True
) -> float:
    """``½ tr(HΣ)`` for :func:`iid_covariance`: the mean stationary excess loss."""
    sigma = iid_covariance(moments, alpha, batch_size, multiplicative)
    return float(0.5 * np.trace(moments["H"] @ sigma))


def reshuffling_factor(moments: dict, alpha: float, batch_size: int, steps) -> float:
    r"""Additive-noise floor with a fresh permutation per epoch over the one with
    replacement, averaged over the logged ``steps`` (each the number of steps taken).

    In the eigenbasis of ``H`` (eigenvalues λ_a, contraction m_a = 1 − αλ_a, noise
    variance c_a = (UᵀCU)_aa), within an epoch of M = n/B batches the batch means have
    variance c_a(n−B)/(B(n−1)) and covariance −c_a/(n−1) between two batches of the same
    epoch (none across epochs). After p steps into an epoch, with S(k) = Σ_{s<k} m_a^s,

        E[e_a²] = α² c_a [ (n−B)/(B(n−1)(1−m_a²))
                  − (S(p)² + m_a^{2p} S(M)²/(1−m_a^{2M}) − 1/(1−m_a²))/(n−1) ].

    Requires ``batch_size`` to divide ``n`` (epochs then align with batches)."""
    n = moments["n"]
    if n % batch_size:
        raise ValueError(f"batch_size {batch_size} must divide n = {n}")
    epoch = n // batch_size
    lam, vectors = np.linalg.eigh(moments["H"])
    noise = np.diag(vectors.T @ moments["C"] @ vectors)
    m = 1.0 - alpha * lam
    q = m * m
    position = (np.asarray(steps, dtype=np.int64) % epoch)[:, None]
    partial = lambda k: (1.0 - m**k) / (1.0 - m)  # noqa: E731
    fpc = (n - batch_size) / (n - 1)
    within = (
        partial(position) ** 2
        + q**position * partial(epoch) ** 2 / (1.0 - q**epoch)
        - 1.0 / (1.0 - q)
    )
    variance = alpha**2 * noise * (fpc / (batch_size * (1.0 - q)) - within / (n - 1))
    reshuffled = 0.5 * np.mean(np.sum(lam * variance, axis=1))
    with_replacement = 0.5 * np.sum(lam * alpha**2 * noise / (batch_size * (1.0 - q)))
    return float(reshuffled / with_replacement)
