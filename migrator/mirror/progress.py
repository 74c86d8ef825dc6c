"""Progress bars (tqdm) for long commands: rows done, rate and ETA, shown on a terminal only."""

from tqdm import tqdm


def rows_bar(description, total=None, enabled=True):
    """A bar counting rows; hidden when stderr is not a terminal or when `enabled` is false."""
    return tqdm(
        desc=description,
        total=total,
        unit=" rows",
        unit_scale=True,
        dynamic_ncols=True,
        disable=None if enabled else True,
        smoothing=0.1,
    )


def estimate_total(bar, parts_done, parts):
    """Set the bar's total from the share of equal parts done, so tqdm can show an ETA."""
    if parts_done:
        bar.total = bar.n if parts_done >= parts else max(bar.n, round(bar.n * parts / parts_done))
        bar.refresh()
