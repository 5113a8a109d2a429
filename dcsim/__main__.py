"""``python -m dcsim``: the command line, as the ``dcsim`` console script."""

from dcsim.cli import app

app(prog_name="dcsim")
