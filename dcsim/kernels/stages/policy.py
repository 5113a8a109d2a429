"""The power policy of a site: how its racks meet a power shortfall.

A site (and each of its halls) whose power would exceed its limit this tick (a curtailment,
the import limit, a hall feed or the heat its cooling can reject) brings its racks down by
one of three policies, chosen per site by the scenario's ``power_policy``:

- ``priority_caps`` (code 0, the default): lower the GPU power limit of the lowest-priority
  pools first, by a common factor, and move to the next priority only when even parked
  (limit 0) the lower ones leave the site over (:func:`.dispatch.cap_to_limit`);
- ``uniform_limit`` (1): lower the GPU power limit of all the site's pools by one common
  factor (:func:`.dispatch.cap_to_limit` over a single rank). Under the DVFS law
  (:func:`dcsim.physics.compute.gpu_power_w`) tokens per joule rise as the clock falls to
  the voltage knee, so the same watts serve more tokens than racks at full clock, until the
  idle, host and leakage power that every rack keeps drawing dominate;
- ``park`` (2): switch whole racks off, lowest priority first, a common share of each
  priority's racks, and keep the others at their full limit (:func:`.dispatch.park_to_limit`).
  A parked rack draws nothing itself (no idle, host or fan power) and serves nothing; its
  share of the IT outside the racks (fabric, storage, management) stays on at the idle figure.

Whatever the policy, a site whose racks, all capped to zero or parked, still draw more than
it can be supplied sheds an even share of them (:func:`.dispatch.shed_site`).
"""

from __future__ import annotations

__all__ = ["POLICY_PARK", "POLICY_PRIORITY_CAPS", "POLICY_UNIFORM_LIMIT", "POWER_POLICIES"]

#: Scenario names of the policies; the index is the code the kernel reads (``Sites.power_policy``).
POWER_POLICIES = ("priority_caps", "uniform_limit", "park")
POLICY_PRIORITY_CAPS = 0
POLICY_UNIFORM_LIMIT = 1
POLICY_PARK = 2
