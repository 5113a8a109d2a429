import subprocess
import sys


def test_python_dash_m_dcsim_is_the_cli():
    out = subprocess.run(
        [sys.executable, "-m", "dcsim", "validate", "scenarios/small-hall.yaml"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "small-hall" in out.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "dcsim", "validate", "no-such-file.yaml"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr + bad.stdout
