"""Error paths name list items as the planner wrote them, and map back to indexes."""

from __future__ import annotations

from types import SimpleNamespace as NS

from dcsim.scenario.paths import hall_path, index_path, item_key, site_key


def test_items_are_named_unless_the_name_cannot_address_them():
    items = [NS(name="b1"), NS(name="2"), NS(name="a.b"), NS(name=None), NS(name="x"), NS(name="x")]
    # A plain unique name names the item; a name that reads as an index, holds a dot, is
    # missing or is shared with a sibling falls back to the index (as error_where does).
    assert [item_key(items, i) for i in range(6)] == ["b1", "1", "2", "3", "4", "5"]
    assert item_key([{"name": "h1"}], 0) == "h1"
    assert site_key(NS(name="campus"), 0) == "sites.campus"
    assert site_key(NS(name="0"), 3) == "sites.3"


def test_hall_path_and_back():
    hall = NS(name="h1")
    building = NS(name="b3", halls=[NS(name="h0"), hall])
    sc = NS(sites=[NS(name="campus", buildings=[NS(name="b1", halls=[]), building])])
    path = hall_path(sc, 0, 1, 1)
    assert path == "sites.campus.buildings.b3.halls.h1"
    data = {
        "sites": [
            {
                "name": "campus",
                "buildings": [
                    {"name": "b1", "halls": []},
                    {"name": "b3", "halls": [{"name": "h0"}, {"name": "h1"}]},
                ],
            }
        ]
    }
    assert index_path(data, path + ".feed_mw") == (
        "sites", 0, "buildings", 1, "halls", 1, "feed_mw"
    )  # fmt: skip
    # Indexes stay indexes; without data, digits become indexes.
    assert index_path(data, "sites.0.buildings.1") == ("sites", 0, "buildings", 1)
    assert index_path(None, "sites.0.name") == ("sites", 0, "name")
