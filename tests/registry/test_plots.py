"""Plots render as PNG and SVG with a numbers-at-risk table."""

from __future__ import annotations

import io

import matplotlib.image
import pytest

from cartflow.errors import InvalidInput
from cartflow.registry.km import SurvivalCurve
from cartflow.registry.plots import cif_plot, km_plot
from cartflow.registry.summaries import cif_by_group, km_by_group
from tests.registry.datasets import bmt, lung

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _lung_curves() -> list[tuple[str, SurvivalCurve]]:
    data = lung()
    return km_by_group(data["time"], data["status"], data["sex"].map({1: "male", 2: "female"}))


def test_km_png_decodes_to_an_image() -> None:
    png = km_plot(_lung_curves(), time_label="Days")
    assert png.startswith(PNG_SIGNATURE)
    pixels = matplotlib.image.imread(io.BytesIO(png), format="png")
    height, width = pixels.shape[:2]
    assert width > 600 and height > 400


def test_km_svg_carries_the_at_risk_table_as_text() -> None:
    svg = km_plot(_lung_curves(), fmt="svg", at_risk_times=[0, 500])
    text = svg.decode()
    assert text.lstrip().startswith("<?xml") and "<svg" in text
    # Numbers at risk at day 0 are the group sizes (90 women, 138 men); at day 500 they are
    # the counts with time >= 500 in the data.
    data = lung()
    still_observed = data[data["time"] >= 500].groupby("sex").size().to_dict()
    for value in (90, 138, still_observed[1], still_observed[2]):
        assert f">{value}<" in text
    assert "Number at risk" in text


def test_cif_plot_renders_both_causes() -> None:
    dis, time, status = bmt()
    curves = cif_by_group(time, status, dis)
    flat = [(name, curve) for name, per_cause in curves for curve in per_cause]
    svg = cif_plot(flat, fmt="svg", cause_names={1: "TRM", 2: "relapse"}).decode()
    assert "TRM" in svg and "relapse" in svg
    assert cif_plot(flat).startswith(PNG_SIGNATURE)


def test_unknown_format_and_empty_input_are_refused() -> None:
    with pytest.raises(InvalidInput):
        km_plot(_lung_curves(), fmt="gif")
    with pytest.raises(InvalidInput):
        km_plot([])
