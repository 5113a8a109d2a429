"""Request-level windows: resolve, record and replay chosen stretches of a fluid run.

See docs/windows.md. :mod:`~dcsim.windows.resolve` turns a window's start (a date-time or a
rule) into ticks from the run's inputs, :mod:`~dcsim.windows.stats` holds the quantile
intervals and the sample size, :mod:`~dcsim.windows.replay` drives the request-level engine
(:mod:`dcsim.requests`) over the recorded cells and returns the requests and KPIs.
"""
