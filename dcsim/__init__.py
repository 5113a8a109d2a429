"""dcsim: AI data-center capacity, power and cooling simulator."""

__version__ = "0.1.0"
