"""How long each library chapter takes to run top to bottom on this machine: the lesson times of the course page.

    python benchmarks/chapter_times.py                  # every library chapter (nbs/0*.ipynb); writes nbs/course_times.csv
    python benchmarks/chapter_times.py 04_mfl 07_trainer   # only these; the other rows are kept as they were

Each chapter runs in a fresh `nbdev-test` process, so its time includes starting Python and the imports, as a student's
first run does; chapters run one after another. Run it with nothing else on the machine. A chapter that fails is
reported and no time is written for it.
"""
import argparse, datetime, os, platform, subprocess, sys, time
from pathlib import Path
import pandas as pd
from cardiacclip.exercise import exercise_count

ROOT = Path(__file__).resolve().parents[1]
NBS, OUT = ROOT / "nbs", ROOT / "nbs" / "course_times.csv"


def machine() -> str:
    "The CPU in words: core count and model name."
    model = platform.processor() or "unknown CPU"
    try:
        model = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{os.cpu_count()} cores, {model}"


def run(chapter: str) -> float:
    "Wall seconds of `nbdev-test` on one chapter; raises if the chapter fails."
    t0 = time.perf_counter()
    r = subprocess.run(["nbdev-test", str(NBS / f"{chapter}.ipynb")], cwd=ROOT, capture_output=True, text=True)
    secs = time.perf_counter() - t0
    if r.returncode: raise RuntimeError(f"{chapter} failed:\n{(r.stdout + r.stderr)[-2000:]}")
    return secs


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("chapters", nargs="*", help="chapter names (default: every nbs/0*_*.ipynb)")
    a = ap.parse_args(argv)
    chapters = a.chapters or sorted(p.stem for p in NBS.glob("0[0-9]*_*.ipynb"))
    missing = [c for c in chapters if not (NBS / f"{c}.ipynb").is_file()]
    if missing: sys.exit(f"no such chapter(s): {missing}")
    old = pd.read_csv(OUT) if OUT.is_file() else pd.DataFrame(columns=["chapter"])
    rows, today, cpu, failed = [], datetime.date.today().isoformat(), machine(), []
    for c in chapters:
        try:
            secs = run(c)
        except RuntimeError as e:
            print(e, file=sys.stderr); failed.append(c); continue
        rows.append({"chapter": c, "seconds": round(secs, 1), "exercises": exercise_count(NBS / f"{c}.ipynb"),
                     "measured": today, "machine": cpu})
        print(f"{c:18s} {secs:7.1f} s", flush=True)
    new = pd.DataFrame(rows)
    table = pd.concat([old[~old.chapter.isin(new.chapter)], new]).sort_values("chapter").astype({"exercises": int})
    table.to_csv(OUT, index=False)
    print(f"wrote {OUT.relative_to(ROOT)}: {len(new)} chapter(s) timed, {new.seconds.sum():.0f} s in all, on {cpu}")
    if failed: sys.exit(f"failed: {failed}")


if __name__ == "__main__":
    main()
