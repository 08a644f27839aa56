"""Plots of the EV studies (matplotlib, Agg backend; nothing is shown on screen)."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

COLORS = {"uncontrolled": "#d62728", "tou": "#ff7f0e", "balanced": "#2ca02c", "valley": "#1f77b4"}
LABELS = {
    "uncontrolled": "uncontrolled",
    "tou": "time of use",
    "balanced": "balanced",
    "valley": "valley filling",
}


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_daily(result: Any, path: str | os.PathLike[str]) -> None:
    """The fleet's daily charging curve per policy: mean and 5-95 % band over the days."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(9, 4.8))
    for p, d in result.band.groupby("policy", sort=False):
        c = COLORS.get(p, None)
        ax.fill_between(d["hour"], d["p05_kw"], d["p95_kw"], color=c, alpha=0.18, lw=0)
        ax.plot(d["hour"], d["mean_kw"], color=c, lw=1.8, label=f"{LABELS.get(p, p)} (mean)")
    ax.set_xlim(0, 24)
    ax.set_xticks(range(0, 25, 3))
    ax.set_xlabel("hour of the day")
    ax.set_ylabel("charging demand, kW")
    n = result.arrays.fleet.n
    ax.set_title(
        f"{result.scenario.name}: {n:,} vehicles, {result.arrays.calendar.n_days} days "
        "(band: 5-95 % of days)"
    )
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_cf(result: Any, path: str | os.PathLike[str]) -> None:
    """Coincidence factor against the number of vehicles per policy (log x), min-max band."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 4.8))
    for p, d in result.cf.groupby("policy", sort=False):
        c = COLORS.get(p, None)
        ax.fill_between(d["n_vehicles"], d["cf_min"], d["cf_max"], color=c, alpha=0.15, lw=0)
        ax.plot(d["n_vehicles"], d["cf_mean"], "o-", color=c, ms=3, label=LABELS.get(p, p))
    ax.set_xscale("log")
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("number of vehicles")
    ax.set_ylabel("coincidence factor (peak / sum of ratings)")
    ax.set_title(f"{result.scenario.name}\ncoincidence factor (band: min-max over subsets)")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_duration(impact: Any, path: str | os.PathLike[str], max_panels: int = 4) -> list[int]:
    """Loading duration curves per policy of the transformers supplying EV sites (the most
    loaded first, up to ``max_panels``); returns the transformers drawn."""
    plt = _plt()
    trafos = impact.ev_trafos()[:max_panels]
    if not trafos:  # no case topology: the most loaded transformers
        first = impact.profile.policies[0]
        t = impact.trafo[impact.trafo.policy == first].sort_values("max_loading_percent")
        trafos = t.trafo.to_numpy()[::-1][:max_panels].tolist()
    n = max(1, len(trafos))
    fig, axes = plt.subplots(1, n, figsize=(4.6 * n, 4.4), squeeze=False, sharey=True)
    limit = impact.limits["max_loading_percent"]
    pos = {int(t): i for i, t in enumerate(impact.trafo_index)}
    names = impact.trafo.drop_duplicates("trafo").set_index("trafo")["name"]
    for ax, t in zip(axes[0], trafos, strict=False):
        for p, y in impact.duration.items():
            curve = y[pos[int(t)]]
            x = np.linspace(0, 100, curve.shape[0])
            ax.plot(x, curve, color=COLORS.get(p, None), lw=1.8, label=LABELS.get(p, p))
        ax.axhline(limit, color="k", lw=0.8, ls="--")
        ax.set_xlim(0, 100)
        ax.set_xlabel("share of time exceeded, %")
        ax.set_title(f"{names.get(t, t)}", fontsize=10)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("transformer loading, %")
    axes[0][0].legend()
    cal = impact.profile.arrays.calendar
    fig.suptitle(
        f"{impact.profile.scenario.name}: loading duration, {cal.n_days} days of "
        f"{cal.dt_h * 60:g}-min steps"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return [int(t) for t in trafos]
