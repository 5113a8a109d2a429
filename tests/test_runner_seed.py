import pytest

import dcsim
from dcsim.errors import ConfigError


def test_a_negative_seed_from_python_is_the_schemas_error(small_hall):
    with pytest.raises(ConfigError, match="seed") as info:
        dcsim.run(small_hall, overrides={"horizon_s": "1h"}, seed=-1)
    assert "seed: -1 must be >= 0" in str(info.value)
