"""Build the README and the static documentation site from the notebooks, and check the site in a browser.

    python tools/docs.py readme [--check]   # README.md from nbs/index.ipynb, run afresh (its table: reports/results.md)
    python tools/docs.py site               # _docs/ from nbs/*.ipynb (pipeline notebooks executed), offline MathJax
    python tools/docs.py check              # serve _docs/ on localhost, render every page in headless Chromium, verify
    python tools/docs.py plots              # `dvc plots show` as _plots/index.html with Vega from npm (offline)

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
    body = re.sub(r"\]\(([\w-]+\.ipynb)\)", r"](nbs/\1)", body)                 # a page's own links: notebooks beside it
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


MATHJAX = ROOT / ".cache" / "mathjax"                             # npm's mathjax@3, installed on first use (git-ignored)
PIPELINE_RUNS = {"10_train.ipynb": ROOT / "runs/fewshot/8/cardiacclip-0/train.ipynb",
                 "11_adapt.ipynb": ROOT / "runs/adapt/8/0/adapt.ipynb", "20_report.ipynb": ROOT / "runs/report.ipynb"}
DIRECTIVE = re.compile(r"^#\|.*\n?", re.M)


def _mathjax() -> Path:
    "MathJax 3's self-contained SVG build (tex-svg.js), from the npm registry into .cache/: the site needs no CDN."
    js = MATHJAX / "node_modules/mathjax/es5/tex-svg.js"
    if not js.is_file():
        MATHJAX.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(MATHJAX), "mathjax@3"], check=True,
                       capture_output=True)
    return js


VEGA = ROOT / ".cache" / "vega"                                   # npm's vega, vega-lite, vega-embed (git-ignored)
PLOTS = ROOT / "_plots"


def plots() -> Path:
    "`dvc plots show` rendered offline: tools/plots.html as the page, Vega's scripts from npm copied beside it."
    js = {n: VEGA / f"node_modules/{n}/build/{n}.min.js" for n in ("vega", "vega-lite", "vega-embed")}
    if not all(p.is_file() for p in js.values()):
        VEGA.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(VEGA), "vega@5", "vega-lite@5",
                        "vega-embed@6"], check=True, capture_output=True)
    r = subprocess.run(["dvc", "plots", "show", "--html-template", str(ROOT / "tools/plots.html"), "-o", str(PLOTS)],
                       cwd=ROOT, capture_output=True, text=True)
    if r.returncode: sys.exit("dvc plots show failed:\n" + r.stdout[-2000:] + r.stderr[-2000:])
    for p in js.values(): shutil.copy(p, PLOTS / p.name)
    print(f"plots written to {PLOTS / 'index.html'} (open it from disk; nothing is fetched from the network)")
    return PLOTS / "index.html"


def _executed(nb: Path):
    "A pipeline notebook with outputs: its executed copy from `dvc repro` (runs/), else run here on the committed results."
    import nbformat
    if PIPELINE_RUNS.get(nb.name, Path("/nonexistent")).is_file():
        return nbformat.read(PIPELINE_RUNS[nb.name], as_version=4)
    import papermill as pm, tempfile
    with tempfile.TemporaryDirectory() as tmp:            # the report writes into a temporary reports folder
        out = Path(tmp) / nb.name
        pm.execute_notebook(str(nb), str(out), cwd=str(NBS), progress_bar=False, log_output=False,
                            parameters={"reports_dir": tmp} if nb.name == "20_report.ipynb" else {})
        return nbformat.read(out, as_version=4)


# stderr lines written by libraries below the project, not by it: a kernel's transport notice (chapter 9 starts
# kernels), decord and FFmpeg reporting the broken files that chapters 1 and 9 break on purpose
NOISE = re.compile(r"^(\[IPKernelApp\] WARNING \| Kernel is running over TCP.*|\[[\d:]+\] /github/workspace/src/video/.*ERROR opening.*"
                   r"|\[mjpeg @ 0x[0-9a-f]+\].*|\s*)$")


def _noise(text: str) -> bool:
    "Whether every line of a stderr output is a known library notice (see NOISE); the project's own messages are kept."
    return all(NOISE.match(line) for line in text.splitlines())


def _folded(cell):
    "An exercise's solution cell as the site shows it: code and output folded behind a click (the input cell removed)."
    import html, nbformat
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer
    code = highlight(DIRECTIVE.sub("", cell.source).strip("\n"), PythonLexer(), HtmlFormatter(cssclass="highlight"))
    said = "".join(o.get("text", "") if o.get("output_type") == "stream" else o.get("data", {}).get("text/plain", "")
                   for o in cell.get("outputs", []) if o.get("name") != "stderr")
    body = (f'<details class="solution"><summary>Solution (try the exercise first)</summary>{code}'
            + (f'<pre class="solution-output">{html.escape(said.strip())}</pre>' if said.strip() else "") + "</details>")
    out = nbformat.v4.new_output("display_data", data={"text/html": body})
    return nbformat.v4.new_code_cell(source=cell.source, outputs=[out], metadata={"tags": ["hide-input"]})


def _page(nb) -> str:
    "The notebook as the site shows it: no nbdev directives, no hidden or setup-only cells, no papermill scaffolding."
    import nbformat
    keep = []
    for c in nb.cells:
        src = c.source
        if c.cell_type == "code" and "solution" in c.metadata.get("tags", []):
            keep.append(_folded(c)); continue
        if c.cell_type == "code":
            first = src.lstrip().splitlines()[0] if src.strip() else ""
            if re.match(r"#\|\s*(hide|default_exp|eval:\s*false)", first) and "show_doc" not in src: continue
            if "nbdev_export()" in src or "injected-parameters" in c.metadata.get("tags", []): continue
            c.source = DIRECTIVE.sub("", src).strip("\n")
            c.outputs = [o for o in c.get("outputs", []) if not (o.get("name") == "stderr" and _noise(o.text))]
            c.metadata = {}
        keep.append(c)
    nb.cells = keep
    return nbformat.writes(nb)


def site():
    "Stage the notebooks (pipeline ones executed) and reports, then build _docs/ with mkdocs (material, mkdocs-jupyter)."
    import nbformat
    shutil.rmtree(STAGE, ignore_errors=True); (STAGE / "javascripts").mkdir(parents=True)
    shutil.copy(_mathjax(), STAGE / "javascripts" / "tex-svg.js")
    (STAGE / "javascripts" / "mathjax-local.js").write_text(MATHJAX_LOADER)
    (STAGE / "stylesheets").mkdir(); (STAGE / "stylesheets" / "notebooks.css").write_text(NOTEBOOK_CSS)
    for nb in sorted(NBS.glob("*.ipynb")):
        book = _executed(nb) if nb.name in PIPELINE_RUNS else nbformat.read(nb, as_version=4)
        text = _page(book).replace("../reports/", "reports/")
        text = re.sub(r"\]\(([\w-]+)\.ipynb\)", r"](\1.html)", text)    # links to notebooks -> pages, served or on disk
        # show_doc's [source] links need `git_url` in [tool.nbdev]; without it nbdev writes host-less "/blob/<branch>/..."
        # paths that lead nowhere on the site, so they are left out until the project has a public repository URL
        text = re.sub(r"\[source\]\(/blob/[^)]*\)\{[^}]*\}(\\n)*", "", text)
        (STAGE / nb.name).write_text(text)
    if (ROOT / "reports").is_dir(): shutil.copytree(ROOT / "reports", STAGE / "reports")
    r = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml")], cwd=ROOT,
                       capture_output=True, text=True)
    if r.returncode: sys.exit("mkdocs build failed:\n" + r.stdout[-2000:] + r.stderr[-4000:])
    for page in SITE.glob("*.html"):          # nbconvert's mermaid loader imports from a CDN (only with diagrams: none here)
        html = page.read_text()
        page.write_text(re.sub(r'<script type="module">\s*document\.addEventListener\("DOMContentLoaded", async \(\) => \{\s*'
                               r'const diagrams = document\.querySelectorAll\("\.jp-Mermaid.*?</script>', "", html, flags=re.S))
    print(f"site written to {SITE} ({len(list(SITE.glob('*.html')))} pages); serve it with `python -m http.server -d _docs`")


# MathJax 3 reads window.MathJax as its configuration when it loads. The notebook pages also carry nbconvert's
# MathJax 2 set-up script, which calls MathJax.Hub: the stub keeps it quiet.
MATHJAX_LOADER = """window.MathJax = {tex: {inlineMath: [['$', '$'], ['\\\\(', '\\\\)']], displayMath: [['$$', '$$'], ['\\\\[', '\\\\]']],
  processEscapes: true}, svg: {fontCache: 'global'}, Hub: {Config: function () {}, Queue: function () {}}};
(function () {
  var here = document.currentScript.src, s = document.createElement('script');
  s.src = here.replace(/mathjax-local\\.js.*$/, 'tex-svg.js'); s.async = false; document.head.appendChild(s);
})();
"""
NOTEBOOK_CSS = """.jp-InputPrompt, .jp-OutputPrompt, .prompt { display: none !important; }
.jp-Cell-inputWrapper, .jp-Cell-outputWrapper { margin-left: 0 !important; }
details.solution { border-left: 3px solid #4caf50; padding: 0.2em 0.8em; margin: 0.5em 0; }
details.solution > summary { cursor: pointer; font-weight: 600; }
"""


class _Page(HTMLParser):
    def __init__(self):
        super().__init__(); self.imgs, self.links, self.errors, self._skip, self.text = [], [], 0, 0, []
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img": self.imgs.append(a.get("src", ""))
        if tag == "a" and a.get("href"): self.links.append(a["href"])
        if any(k in (a.get("class") or "") for k in ("output_error", "jp-mod-error")): self.errors += 1
        if tag in ("script", "style", "code", "pre", "mjx-container", "svg") or "highlight" in (a.get("class") or ""): self._skip += 1
    def handle_endtag(self, tag):
        if tag in ("script", "style", "code", "pre", "mjx-container", "svg") and self._skip: self._skip -= 1
    def handle_data(self, data):
        if not self._skip: self.text.append(data)


RAW_TEX = re.compile(r"\$[^$\n]{0,80}\\[a-zA-Z]+[^$\n]{0,80}\$|\\\(|\\\[")


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        p = shutil.which(name)
        if p: return p
    sys.exit("no Chromium found: apt-get install chromium")


def render(url: str, shot: Path | None = None) -> str:
    "The DOM of `url` after Chromium ran its scripts, MathJax included (optionally a screenshot too)."
    base = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage", "--disable-quic",
            "--virtual-time-budget=15000", f"--user-data-dir={STAGE.parent / '.chromium-profile'}"]
    dom = subprocess.run(base + ["--dump-dom", url], capture_output=True, text=True, timeout=180).stdout
    if shot: subprocess.run(base + [f"--screenshot={shot}", "--window-size=1280,1600", url], capture_output=True, timeout=180)
    return dom


class _Quiet(http.server.SimpleHTTPRequestHandler):
    "A static file server that says nothing, not even when the browser drops a connection."
    def log_message(self, *a): pass
    def handle(self):
        try: super().handle()
        except (ConnectionResetError, BrokenPipeError): pass


def check(shots: Path | None = SITE, verbose: bool = False) -> dict:
    "Serve the site; in headless Chromium every page must render, with its figures, without raw TeX, error cells or broken links."
    if not (SITE / "index.html").is_file(): sys.exit("no site: run `python tools/docs.py site` first")
    pages = sorted(p.relative_to(SITE).as_posix() for p in SITE.glob("*.html") if p.name not in ("404.html",))
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(SITE)))
    srv.handle_error = lambda *a: None
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{srv.server_address[1]}/"
    report, problems = {}, []
    try:
        for page in pages:
            url = urljoin(base, page)
            shot = shots / f"screenshot-{Path(page).stem}.png" if shots and page in ("index.html", "03_echozoom.html") else None
            dom = render(url, shot)
            p = _Page(); p.feed(dom)
            if len(dom) < 1000: problems.append(f"{page}: Chromium rendered almost nothing ({len(dom)} bytes)")
            sizes = []
            for s in (s for s in p.imgs if s):
                if s.startswith("data:"): sizes.append(len(s))
                else:
                    try: sizes.append(len(urllib.request.urlopen(urljoin(url, s), timeout=10).read()))
                    except Exception as e: problems.append(f"{page}: image {s} does not load ({e})")
            problems += [f"{page}: empty image" for n in sizes if n < 200]
            if p.errors or "Traceback (most recent call last)" in dom: problems.append(f"{page}: an error cell is shown")
            tex = RAW_TEX.findall(" ".join(p.text))
            if tex: problems.append(f"{page}: raw TeX shown, e.g. {tex[0][:60]!r}")
            internal = {urljoin(url, h).split("#")[0] for h in p.links
                        if not urlparse(h).scheme and not h.startswith(("#", "mailto:"))}
            for link in sorted(internal):
                try: urllib.request.urlopen(link, timeout=10).read(1)
                except Exception as e: problems.append(f"{page}: link {link[len(base) - 1:]} broken ({e})")
            report[page] = {"dom_bytes": len(dom), "images": len(sizes), "internal_links": len(internal)}
    finally:
        srv.shutdown()
    if verbose: print(json.dumps(report, indent=1))
    if problems: sys.exit("site check failed:\n  " + "\n  ".join(problems))
    print(f"site check passed: {len(pages)} pages, {sum(r['images'] for r in report.values())} figures, "
          f"{sum(r['internal_links'] for r in report.values())} internal links; screenshots in {shots}")
    return report


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["readme", "site", "check", "plots"])
    ap.add_argument("--check", action="store_true", help="readme: fail if README.md is out of step")
    ap.add_argument("--shots", type=Path, default=SITE, help="check: where the screenshots of two pages go")
    ap.add_argument("--verbose", action="store_true", help="check: print what each page holds")
    a = ap.parse_args()
    if a.what == "readme": readme(a.check)
    elif a.what == "site": site()
    elif a.what == "plots": plots()
    else: check(shots=a.shots, verbose=a.verbose)
