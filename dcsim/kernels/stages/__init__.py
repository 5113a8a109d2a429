"""The stages of the compiled tick, in the order :func:`dcsim.kernels.step.advance` runs them.

1. :mod:`.demand`: offered load per class = demand + backlog, deadline expiry;
   :func:`.demand.settle_backlog` books what was served after the dispatch.
2. :mod:`.limits`: the caps the tick starts from, and the limits it must meet: each hall's
   feed and heat limit, each site's supply (grid, must-take, turbines, battery);
3. :mod:`.dispatch`: dispatch load to racks, solve the power caps that meet the limits
   (lowest priority first), shed a site whose parked racks still draw too much; then the
   final operating point of every cell;
4. :mod:`.chain`: the power chain per hall (PDU, UPS) with its cooling plant, evaluated on a
   scratch copy of the loop state in the cap solve and committed once per tick;
5. :mod:`.site`: the site balance (transformer, battery, turbines, import) and the turbine
   commitment for the next tick; battery and turbine changes go to the event buffer;
6. :mod:`.record`: accumulation into the record buffers and the balance checks.

Each stage works on the typed bundles of :mod:`dcsim.kernels.bundles` and the per-call
scratch :class:`.work.Work`. ``docs/core.md`` lists what each stage reads and writes.
"""
