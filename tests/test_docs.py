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
    assert (ROOT / "_docs/index.html").is_file() and (ROOT / "_docs/03_echozoom.html").is_file()
    assert (ROOT / "_docs/javascripts/tex-svg.js").stat().st_size > 100_000          # MathJax served by the site itself
    import re
    for page in (ROOT / "_docs").glob("*.html"):                            # nothing is fetched from another host
        html = page.read_text()
        assert not re.search(r'<(script|link|img)[^>]+(src|href)="https?://|import\("https?://', html), page.name
    out = _tool("check")                  # every page: rendered, figures load, no raw TeX, no error cell, links resolve
    assert out.startswith("site check passed") and len(out.strip().splitlines()) == 1, out
    for page in ("index", "03_echozoom"): assert (ROOT / f"_docs/screenshot-{page}.png").stat().st_size > 10_000
    # exercises: each solution folded behind a click, code and verdict inside; the check's message on the page itself
    mfl = (ROOT / "_docs/04_mfl.html").read_text()
    folded = re.findall(r'<details class="solution">.*?</details>', mfl, flags=re.S)
    assert len(folded) == 2 and all("✓" in f for f in folded), len(folded)
    text = lambda html: re.sub(r"<[^>]+>", "", html)
    outside = text(re.sub(r'<details class="solution">.*?</details>', "", mfl, flags=re.S))
    line = "w = scores.softmax(dim=1)"                                        # a line of the MFL solution
    assert line in text(folded[1]) and line not in outside                    # ... shown only behind the click
    assert "✗ `my_mfl` is not written yet" in outside                         # the check's message, on the page
    assert "Solution (try the exercise first)" in mfl and (ROOT / "_docs/course.html").is_file()
    report = (ROOT / "_docs/20_report.html").read_text()
    assert "<table" in report and report.count("data:image/png") + report.count("<img") >= 2   # the executed report


@pytest.mark.slow
def test_dvc_plots_render_offline_one_line_per_method():
    "`python tools/docs.py plots`: DVC's plots page with Vega from npm beside it; the MAE plot colours lines by method."
    if not any(shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")):
        if os.environ.get("CI"): pytest.fail("Chromium is required in CI (apt-get install chromium)")
        pytest.skip("no Chromium on this machine")
    _tool("plots")
    html = (ROOT / "_plots/index.html").read_text()
    assert "https://" not in html.split("<body>")[0] and (ROOT / "_plots/vega.min.js").is_file()
    assert '"color": {"field": "field"' in html.replace("\n", " ") or '"field": "field"' in html
    sys.path.insert(0, str(ROOT / "tools"))
    import docs
    dom = docs.render((ROOT / "_plots/index.html").as_uri())
    assert "<svg" in dom or "<canvas" in dom, "Vega drew nothing"
