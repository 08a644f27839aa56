"""Planning figures keep the document they came from."""

from __future__ import annotations

from gridplan import seeds


def test_targets_from_the_plan():
    assert seeds.get("reliability_targets.urban_min_percent") == 99.915
    assert seeds.get("reliability_targets.rural_min_percent") == 99.73


def test_every_figure_has_a_full_source_name_and_the_toml_value():
    figures = seeds.figures_with_sources()
    assert len(figures) >= 20
    for path, (value, source) in figures.items():
        assert source.endswith(".txt") and "..." not in source, (path, source)
        assert seeds.get(path) == value
    # a figure without a comment of its own takes the source of the figure above it
    assert figures["wind.test_centre_wind_mw"] == (78, "004_941d1052feedc483.txt")
    # a source given on a comment line of its own applies to the figures below it
    assert figures["tianjin.rail_transit_km_2020"][1] == "000_4a71195d9d42a015.txt"
    assert figures["tianjin.fiveg_base_stations"][1] == "001_99e1cff61e2f016f.txt"
