"""The report's map of where the model and NDWI disagree (an IndexComparison's small map)."""

import numpy as np

from ..maps.index_comparison import BOTH_LAND, BOTH_WATER, INDEX_ONLY, MODEL_ONLY, NODATA
from .figures import new_figure

CLASS_COLOURS = {
    NODATA: ("#ffffff", "nodata"),
    BOTH_LAND: ("#efe3c8", "land in both"),
    BOTH_WATER: ("#6baed6", "water in both"),
    MODEL_ONLY: ("#d7301f", "water for the model only"),
    INDEX_ONLY: ("#1a9641", "water for {index} only"),
}


def agreement_map(comparison):
    """The small map, each class a colour, with a legend below; about 600 px wide."""
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    height, width = comparison.agreement_map.shape
    figure_width = 7.5
    figure, axes = new_figure(figure_width, figure_width * height / width + 0.7)
    colours = [CLASS_COLOURS[value][0] for value in sorted(CLASS_COLOURS)]
    axes.imshow(comparison.agreement_map, cmap=ListedColormap(colours), vmin=0, vmax=len(colours) - 1,
                interpolation="nearest")
    axes.set_xticks([])
    axes.set_yticks([])
    shown = np.unique(comparison.agreement_map)
    axes.legend(
        handles=[Patch(facecolor=CLASS_COLOURS[value][0], edgecolor="#888888",
                       label=CLASS_COLOURS[value][1].format(index=comparison.index))
                 for value in sorted(CLASS_COLOURS) if value != NODATA and value in shown],
        loc="upper center", bbox_to_anchor=(0.5, -0.02), ncol=2, frameon=False, fontsize=9,
    )
    figure.tight_layout()
    return figure

