"""Plots of the wind studies (matplotlib, Agg backend: files only, no display needed)."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: str | os.PathLike[str]) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    _pyplot().close(fig)


def plot_power(p_mw: pd.DataFrame, path: str | os.PathLike[str], title: str = "") -> None:
    """Duration curve of the total wind output (MW, sorted descending) and monthly energy."""
    plt = _pyplot()
    total = p_mw.sum(axis=1).to_numpy()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
    a1.plot(np.arange(1, total.size + 1), np.sort(total)[::-1], color="tab:blue")
    a1.set_xlabel("steps, sorted")
    a1.set_ylabel("total wind output, MW")
    a1.set_title("output duration curve")
    a1.grid(alpha=0.3)
    if isinstance(p_mw.index, pd.DatetimeIndex) and len(p_mw) > 1:
        step_h = (p_mw.index[1] - p_mw.index[0]).total_seconds() / 3600.0
        monthly = p_mw.sum(axis=1).groupby(p_mw.index.month).sum() * step_h
        a2.bar(monthly.index, monthly.to_numpy() / 1000.0, color="tab:green")
        a2.set_xlabel("month")
        a2.set_ylabel("energy, GWh")
        a2.set_title("monthly energy")
    else:
        a2.axis("off")
    if title:
        fig.suptitle(title)
    _save(fig, path)


LIMIT_COLOURS = {
    "loading": "tab:red",
    "vm_max": "tab:blue",
    "vm_min": "tab:orange",
    "unlimited": "tab:gray",
    "diverged": "black",
}


def plot_hosting(table: pd.DataFrame, path: str | os.PathLike[str], title: str = "") -> None:
    """Bar chart of hosting capacity (MW) per bus, coloured by the limiting constraint."""
    plt = _pyplot()
    n = len(table)
    fig, ax = plt.subplots(figsize=(max(6.0, min(0.25 * n + 2, 24.0)), 4.5))
    kinds = table["limit_kind"].astype(str).to_numpy()
    colours = [LIMIT_COLOURS.get(k, "tab:purple") for k in kinds]
    x = np.arange(n)
    ax.bar(x, table["hosting_mw"].to_numpy(dtype=float), color=colours)
    ax.set_xticks(x)
    ax.set_xticklabels([str(b) for b in table.index], rotation=90, fontsize=7)
    ax.set_xlabel("bus")
    ax.set_ylabel("hosting capacity, MW")
    from matplotlib.patches import Patch

    handles = [
        Patch(color=LIMIT_COLOURS.get(kind, "tab:purple"), label=kind)
        for kind in dict.fromkeys(kinds)
    ]
    ax.legend(handles=handles, title="limited by", fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    if title:
        ax.set_title(title)
    _save(fig, path)


def plot_curtailment(
    curtailed_mw: np.ndarray, path: str | os.PathLike[str], title: str = ""
) -> None:
    """Duration curve of the curtailed wind power (MW per step, sorted descending)."""
    plt = _pyplot()
    c = np.sort(np.asarray(curtailed_mw, dtype=float))[::-1]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(np.arange(1, c.size + 1), c, color="tab:red")
    ax.fill_between(np.arange(1, c.size + 1), c, color="tab:red", alpha=0.2)
    ax.set_xlabel("steps, sorted")
    ax.set_ylabel("curtailed wind, MW")
    ax.set_title(title or "curtailment duration curve")
    ax.grid(alpha=0.3)
    _save(fig, path)


def plot_credit(trials: pd.DataFrame, path: str | os.PathLike[str], title: str = "") -> None:
    """The bisections of the capacity credit: risk (relative to each search's target) against
    the added load (ELCC) or firm capacity (EFC)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    for (metric, search), part in trials.groupby(["metric", "search"]):
        part = part.sort_values("x_mw")
        target = float(part["target"].iloc[0])
        rel = part["risk"] / target if target > 0 else part["risk"]
        ax.plot(part["x_mw"], rel, "o-", ms=3, label=f"{search.upper()} ({metric.upper()})")
    ax.axhline(1.0, color="gray", ls="--", lw=1)
    ax.set_yscale("log")
    ax.set_xlabel("added load (ELCC) / firm capacity (EFC), MW")
    ax.set_ylabel("risk / target")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    ax.set_title(title or "capacity credit bisections")
    _save(fig, path)
