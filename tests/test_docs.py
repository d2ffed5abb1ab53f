"The README is generated from nbs/index.ipynb; the site builds and renders in headless Chromium."
import os, shutil, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _tool(*args):
    r = subprocess.run([sys.executable, str(ROOT / "tools/docs.py"), *args], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return r.stdout


def test_readme_in_step_with_index():
    _tool("readme", "--check")


@pytest.mark.slow
def test_site_builds_and_renders():
    if not any(shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")):
        if os.environ.get("CI"): pytest.fail("Chromium is required in CI (apt-get install chromium)")
        pytest.skip("no Chromium on this machine")
    _tool("site")
    assert (ROOT / "_docs/index.html").is_file() and (ROOT / "_docs/03_echozoom/index.html").is_file()
    out = _tool("check")
    assert '"images"' in out
