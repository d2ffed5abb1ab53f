"""Build the README and the static documentation site from the notebooks, and check the site in a browser.

    python tools/docs.py readme [--check]   # README.md from nbs/index.ipynb, run afresh (its table: reports/results.md)
    python tools/docs.py site               # _docs/ from nbs/*.ipynb with their committed outputs (mkdocs-jupyter)
    python tools/docs.py check              # serve _docs/ on localhost, render pages in headless Chromium, verify

nbdev's own `nbdev-docs`/`nbdev-readme` need the Quarto binary, which cannot be installed on these machines.
"""
import argparse, difflib, functools, http.server, json, re, shutil, subprocess, sys, threading, urllib.request
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlparse

ROOT = Path(__file__).resolve().parents[1]
NBS, STAGE, SITE = ROOT / "nbs", ROOT / "_docs_src", ROOT / "_docs"


def index_executed():
    "nbs/index.ipynb with its cells run afresh (in nbs/): the results table cell reads the current reports/results.md."
    import nbformat
    from nbconvert.preprocessors import ExecutePreprocessor
    nb = nbformat.read(NBS / "index.ipynb", as_version=4)
    ExecutePreprocessor(timeout=120).preprocess(nb, {"metadata": {"path": str(NBS)}})
    return nb


def readme_text(nb) -> str:
    "README.md content from the index notebook `nb` as markdown: hidden inputs removed, paths relative to the repo root."
    from nbconvert import MarkdownExporter
    from traitlets.config import Config
    c = Config()
    c.TagRemovePreprocessor.remove_input_tags = ("hide-input",)
    c.TagRemovePreprocessor.enabled = True
    c.MarkdownExporter.preprocessors = ["nbconvert.preprocessors.TagRemovePreprocessor"]
    body, _ = MarkdownExporter(config=c).from_notebook_node(nb)
    body = body.replace("](../reports/", "](reports/")
    body = re.sub(r"\]\((\d\d[a-z]?_[\w-]+\.ipynb)\)", r"](nbs/\1)", body)
    body = re.sub(r"\n{3,}", "\n\n", body).strip() + "\n"
    return "<!-- generated from nbs/index.ipynb by `python tools/docs.py readme`: do not edit -->\n\n" + body


def readme(check: bool = False):
    """Write README.md from nbs/index.ipynb, run afresh so that its table is the current reports/results.md; the
    notebook keeps that output too (cleaned by nbdev-clean), so the site and Jupyter show the same table.
    With `check`: change nothing, fail if README.md or the notebook's committed output is out of step."""
    import nbformat
    nb, path, nb_path = index_executed(), ROOT / "README.md", NBS / "index.ipynb"
    new = readme_text(nb)
    if check:
        old = path.read_text() if path.is_file() else ""
        if old != new:
            sys.stdout.writelines(difflib.unified_diff(old.splitlines(True), new.splitlines(True), "README.md", "from index"))
            sys.exit("README.md is out of step with nbs/index.ipynb or reports/: run `python tools/docs.py readme`")
        committed = readme_text(nbformat.read(nb_path, as_version=4))              # the outputs as committed
        if committed != new:
            sys.exit("nbs/index.ipynb's committed output is out of step with reports/: run `python tools/docs.py readme`")
        print("README.md and nbs/index.ipynb are in step with reports/")
    else:
        nbformat.write(nb, nb_path)
        subprocess.run(["nbdev-clean", "--fname", str(nb_path)], check=True, cwd=ROOT)
        path.write_text(new); print(f"wrote {path} and the outputs of {nb_path.relative_to(ROOT)}")


def site():
    "Stage the notebooks and reports, then build _docs/ with mkdocs (material theme, mkdocs-jupyter)."
    shutil.rmtree(STAGE, ignore_errors=True); STAGE.mkdir()
    for nb in sorted(NBS.glob("*.ipynb")):
        up = "" if nb.name == "index.ipynb" else "../"                  # pages live at <name>/ (directory URLs)
        text = nb.read_text().replace("../reports/", f"{up}reports/")
        text = re.sub(r"\]\((\d\d[a-z]?_[\w-]+)\.ipynb\)", rf"]({up}\1/)", text)   # chapter links -> page URLs
        # show_doc's [source] links need `git_url` in [tool.nbdev]; without it nbdev writes host-less "/blob/<branch>/..."
        # paths that lead nowhere on the site, so they are left out until the project has a public repository URL
        text = re.sub(r"\[source\]\(/blob/[^)]*\)\{[^}]*\}(\\n)*", "", text)
        (STAGE / nb.name).write_text(text)
    if (ROOT / "reports").is_dir(): shutil.copytree(ROOT / "reports", STAGE / "reports")
    r = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml")], cwd=ROOT,
                       capture_output=True, text=True)
    print(r.stdout[-2000:], r.stderr[-4000:])
    if r.returncode: sys.exit("mkdocs build failed")
    print(f"site written to {SITE}")


class _Page(HTMLParser):
    def __init__(self):
        super().__init__(); self.imgs, self.links, self.errors = [], [], 0
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img": self.imgs.append(a.get("src", ""))
        if tag == "a" and a.get("href"): self.links.append(a["href"])
        if any(k in a.get("class", "") for k in ("output_error", "jp-OutputArea-output jp-RenderedText jp-mod-error")): self.errors += 1


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        p = shutil.which(name)
        if p: return p
    sys.exit("no Chromium found: apt-get install chromium")


def render(url: str, shot: Path | None = None) -> str:
    "The DOM of `url` after Chromium ran its scripts (optionally a screenshot too)."
    base = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
            f"--user-data-dir={STAGE.parent / '.chromium-profile'}"]
    dom = subprocess.run(base + ["--dump-dom", url], capture_output=True, text=True, timeout=120).stdout
    if shot: subprocess.run(base + [f"--screenshot={shot}", "--window-size=1280,2000", url], capture_output=True, timeout=120)
    return dom


def check(pages=("index.html", "03_echozoom/index.html"), shots: Path | None = None) -> dict:
    "Serve the site on localhost; for each page: figures present and non-empty, no error cells, internal links resolve."
    if not (SITE / "index.html").is_file(): sys.exit("no site: run `python tools/docs.py site` first")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(SITE))
    handler.log_message = lambda *a: None
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{srv.server_address[1]}/"
    report, problems = {}, []
    try:
        for i, page in enumerate(pages):
            url = urljoin(base, page)
            dom = render(url, shots / f"page{i}.png" if shots else None)
            p = _Page(); p.feed(dom)
            if len(dom) < 1000: problems.append(f"{page}: Chromium rendered almost nothing ({len(dom)} bytes)")
            imgs = [s for s in p.imgs if s]
            sizes = []
            for s in imgs:
                if s.startswith("data:"): sizes.append(len(s))
                else:
                    try: sizes.append(len(urllib.request.urlopen(urljoin(url, s), timeout=10).read()))
                    except Exception as e: problems.append(f"{page}: image {s} does not load ({e})")
            if not imgs: problems.append(f"{page}: no figures rendered")
            problems += [f"{page}: empty image" for n in sizes if n < 200]
            if p.errors or "Traceback (most recent call last)" in dom: problems.append(f"{page}: an error cell is shown")
            internal = {urljoin(url, h).split("#")[0] for h in p.links
                        if not urlparse(h).scheme and not h.startswith(("#", "mailto:"))}
            for link in sorted(internal):
                try: urllib.request.urlopen(link, timeout=10).read(1)
                except Exception as e: problems.append(f"{page}: link {link[len(base) - 1:]} broken ({e})")
            report[page] = {"dom_bytes": len(dom), "images": len(imgs), "internal_links": len(internal)}
    finally:
        srv.shutdown()
    print(json.dumps(report, indent=1))
    if problems: sys.exit("site check failed:\n  " + "\n  ".join(problems))
    return report


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["readme", "site", "check"])
    ap.add_argument("--check", action="store_true", help="readme: fail if README.md is out of step")
    ap.add_argument("--shots", type=Path, help="check: also save screenshots to this folder")
    a = ap.parse_args()
    if a.what == "readme": readme(a.check)
    elif a.what == "site": site()
    else: check(shots=a.shots)
