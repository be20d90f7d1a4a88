"""Training curves and feature maps as PNG files, drawn with matplotlib (the optional
`plot` extra: ``pip install tensorgrad[plot]``)."""
from __future__ import annotations

import math

import numpy as np

__all__ = ["require_matplotlib", "plot_metrics", "plot_feature_maps"]


def require_matplotlib():
    """matplotlib.pyplot with the file-only Agg backend; ImportError with the install command
    when matplotlib is missing."""
    try:
        import matplotlib
    except ImportError:
        raise ImportError("plotting needs matplotlib: pip install tensorgrad[plot] "
                          "(or pip install matplotlib)") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def plot_metrics(metrics: dict, path, title: str = "", steps: dict | None = None) -> None:
    """Loss (left) and accuracy (right) of a run, from `train.read_metrics` and, when given,
    `train.read_steps`: the loss of every training step as a thin line, then the per-epoch
    train, validation and test values as points at the end of each epoch (so one epoch is
    already readable)."""
    plt = require_matplotlib()
    fig, (loss, acc) = plt.subplots(1, 2, figsize=(11, 4))
    epochs = metrics["epoch"]
    if steps is not None and len(steps["step"]):
        per_epoch = np.array([steps["step"][steps["epoch"] == e].max() for e in steps["epoch"]])
        x = steps["epoch"] - 1 + steps["step"] / per_epoch
        loss.plot(x, steps["loss"], lw=0.6, alpha=0.5, color="tab:gray", label="train (step)")
    for split in ("train", "val", "test"):
        if np.isnan(metrics[f"{split}_loss"]).all():
            continue
        loss.plot(epochs, metrics[f"{split}_loss"], marker="o", label=split)
        acc.plot(epochs, 100 * metrics[f"{split}_acc"], marker="o", label=split)
    for ax, name in ((loss, "loss"), (acc, "accuracy (%)")):
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_feature_maps(image: np.ndarray, maps: list, path, title: str = "",
                      columns: int = 16) -> None:
    """The input image (C, H, W) above each layer's feature maps: `maps` is a list of
    (layer name, (channels, H, W) array), drawn `columns` channels per row on one colour
    scale per layer, shown by a colour bar beside it."""
    plt = require_matplotlib()
    rows = [("input", image)] + list(maps)
    heights = [math.ceil(len(m) / columns) if name != "input" else 1 for name, m in rows]
    fig = plt.figure(figsize=(columns * 0.8, sum(heights) * 0.9 + 0.6 * len(rows)))
    grid = fig.add_gridspec(len(rows), 1, height_ratios=heights)
    for (name, m), cell, height in zip(rows, grid, heights):
        inner = cell.subgridspec(height, columns, wspace=0.05, hspace=0.05)
        images = [m.transpose(1, 2, 0) if len(m) == 3 else m[0]] if name == "input" else m
        scale = {} if name == "input" and len(m) == 3 else \
            dict(vmin=float(np.min(m)), vmax=float(np.max(m)))
        axes = []
        for i, channel in enumerate(images):
            ax = fig.add_subplot(inner[i // columns, i % columns])
            shown = ax.imshow(channel, cmap="gray" if name == "input" else "viridis", **scale)
            ax.set_xticks([])
            ax.set_yticks([])
            axes.append(ax)
            if i == 0:
                ax.set_title(f"{name} ({len(m)} ch)" if name != "input" else name,
                             loc="left", fontsize=9)
        if scale:
            fig.colorbar(shown, ax=axes, fraction=0.02, pad=0.01)
    fig.suptitle(title)
    fig.savefig(path, dpi=80)
    plt.close(fig)
