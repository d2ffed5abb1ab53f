import subprocess, sys
from pathlib import Path
import numpy as np
import pandas as pd
import decord
import pytest
from cardiacclip import synth
from cardiacclip.data import read_tracings, ed_es, video_path
from cardiacclip.synth import trace_volume

REALISM = Path(__file__).resolve().parents[2] / "shared/tools/label_realism.py"   # ../shared beside the checkout


def test_layout_and_columns(echo_root):
    fl = pd.read_csv(echo_root / "FileList.csv")
    assert list(fl.columns) == synth.FILELIST_COLUMNS
    assert set(fl.Split) == {"TRAIN", "VAL", "TEST"}
    tr = pd.read_csv(echo_root / "VolumeTracings.csv")
    assert list(tr.columns) == synth.TRACING_COLUMNS
    assert (tr.groupby("FileName").Frame.nunique() == 2).all()
    assert (tr.groupby(["FileName", "Frame"]).size() == synth.N_CHORDS + 1).all()


def test_echonet_file_name_conventions(echo_root):
    "FileList.csv names videos without extension, VolumeTracings.csv with `.avi`, as EchoNet-Dynamic does."
    fl = pd.read_csv(echo_root / "FileList.csv"); tr = pd.read_csv(echo_root / "VolumeTracings.csv")
    assert not fl.FileName.str.endswith(".avi").any() and tr.FileName.str.endswith(".avi").all()
    assert set(tr.FileName.str[:-4]) == set(fl.FileName)


def test_official_loader_takes_the_last_traced_frame_as_ed(echo_root):
    "echonet.datasets.Echo keeps traced frames in file order and reads the last as ED (large), the first as ES (small)."
    tr = pd.read_csv(echo_root / "VolumeTracings.csv")
    fl = pd.read_csv(echo_root / "FileList.csv").set_index("FileName")
    for name, g in tr.groupby("FileName", sort=False):
        order = list(dict.fromkeys(g.Frame))
        large, small = (trace_volume(g[g.Frame == f][["X1", "Y1", "X2", "Y2"]].to_numpy()) for f in (order[-1], order[0]))
        assert large > small, name
        assert abs(100 * (1 - small / large) - fl.EF[name[:-4]]) < 0.01, name


def test_reader_accepts_either_convention(echo_root, tmp_path):
    "Our reader gives the same ED/ES from tracings with or without `.avi` and in either frame order."
    tr = pd.read_csv(echo_root / "VolumeTracings.csv")
    plain = tr.assign(FileName=tr.FileName.str[:-4]).iloc[::-1]             # no suffix, ED rows first
    plain.to_csv(tmp_path / "t.csv", index=False)
    a, b = read_tracings(echo_root / "VolumeTracings.csv"), read_tracings(tmp_path / "t.csv")
    assert set(a) == set(b) == set(pd.read_csv(echo_root / "FileList.csv").FileName)
    for name in a: assert ed_es(a[name]) == ed_es(b[name])


def test_videos_match_filelist(echo_root):
    fl = pd.read_csv(echo_root / "FileList.csv")
    for r in fl.head(6).itertuples():
        vr = decord.VideoReader(str(video_path(echo_root, r.FileName)))
        assert len(vr) == r.NumberOfFrames and 28 <= len(vr) <= 1000
        assert vr[0].shape == (112, 112, 3)
        assert abs(vr.get_avg_fps() - r.FPS) < 0.5
        f = vr[0].asnumpy().astype(int)
        assert np.abs(f[..., 0] - f[..., 1]).max() <= 3 and np.abs(f[..., 2] - f[..., 1]).max() <= 3   # grayscale in 3 channels


def test_ef_from_tracings_agrees_with_filelist(echo_root):
    fl = pd.read_csv(echo_root / "FileList.csv").set_index("FileName")
    traces = read_tracings(echo_root / "VolumeTracings.csv")
    for name, frames in traces.items():
        ed, es = ed_es(frames)
        ef = 100 * (1 - trace_volume(frames[es]) / trace_volume(frames[ed]))
        assert abs(ef - fl.EF[name]) < 1, name
        assert ed < es                                          # ES follows ED within the traced beat


@pytest.mark.parametrize("index", range(8))
def test_ef_of_drawn_cavity_agrees(index):
    "EF measured on the drawn pixels (area-length) agrees with the disc EF written to the CSV, and with the traced beat's."
    case = synth.sample_case(3, index)
    frames, cav = synth.render(case, return_cavity=True)
    g = synth.lv_geometry(case)
    ed, es = synth.ed_es_frames(case, g)
    rows = {f: synth.trace_rows(g.apex[f], g.axis[f], g.L[f], g.W[f]) for f in (ed, es)}
    ef_disc = 100 * (1 - trace_volume(rows[es]) / trace_volume(rows[ed]))
    ef_pix = 100 * (1 - synth.area_length_volume(cav[es], g.L[es]) / synth.area_length_volume(cav[ed], g.L[ed]))
    assert abs(ef_disc - ef_pix) < 1
    assert abs(ef_disc - case.beats[case.traced][3]) < 3       # the traced frames land near the beat's true ED/ES


def test_heart_beats_in_pixels():
    "The LV cavity is visibly larger at ED than at ES in the rendered frames (the model must see motion)."
    case = synth.sample_case(0, 2)
    frames, cav = synth.render(case, return_cavity=True)
    ed, es = synth.ed_es_frames(case)
    assert cav[es].sum() / cav[ed].sum() < 0.95
    assert frames[ed].mean() != frames[es].mean()


@pytest.fixture(scope="module")
def labels():
    "Labels of 1,000 cases of the default world (seed of params.yaml's dataset), measured without rendering."
    return pd.DataFrame([synth.case_labels(synth.sample_case(2025, i), "TRAIN")[0] for i in range(1000)])


def test_heart_size_says_little_about_ef(labels):
    "Heart size varies with EF to about the real degree: EDV alone predicts EF poorly (real: MAE 9.1, trivial 11.2)."
    assert -0.66 < np.corrcoef(labels.EF, labels.EDV)[0, 1] < -0.52
    fit = np.polyval(np.polyfit(np.log(labels.EDV), labels.EF, 3), np.log(labels.EDV))
    assert np.abs(fit - labels.EF).mean() > 8.2


@pytest.mark.skipif(not REALISM.is_file(), reason="the project's shared tools are not beside this checkout")
def test_labels_pass_the_realism_check(labels, tmp_path):
    "All 21 label statistics within tolerance of real EchoNet-Dynamic's (the shared tool exits 1 otherwise)."
    labels.to_csv(tmp_path / "FileList.csv", index=False)
    r = subprocess.run([sys.executable, str(REALISM), str(tmp_path / "FileList.csv")], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout


def test_acquisition_varies_like_real_data(labels):
    n, fps = labels.NumberOfFrames, labels.FPS
    assert 0.015 < (n < 96).mean() < 0.06 and (n < 43).any()   # short videos: the clip padding path runs
    assert 0.65 < (fps == 50).mean() < 0.9 and fps.min() < 47 and fps.max() > 60


def test_irregular_rhythms_vary_beat_to_beat():
    cases = [synth.sample_case(5, i) for i in range(600)]
    spread = lambda c: np.ptp(synth.beat_efs(c)) if len(synth.beat_efs(c)) >= 2 else np.nan
    irr = np.nanmedian([spread(c) for c in cases if c.irregular]); sin = np.nanmedian([spread(c) for c in cases if not c.irregular])
    assert irr > 2 * sin > 0
    assert any(c.episodes for c in cases) and any(c.flicker for c in cases)


def test_episodes_keep_off_the_traced_beat():
    for i in range(300):
        c = synth.sample_case(8, i)
        ed, es = synth.ed_es_frames(c)
        assert all(b < ed or a > es for _, a, b, _ in c.episodes), (i, c.episodes, ed, es)


def test_generator_is_deterministic(tmp_path):
    a = synth.synthesize(tmp_path / "a", n_videos=5, seed=9, workers=2, verbose=False)
    b = synth.synthesize(tmp_path / "b", n_videos=5, seed=9, workers=1, verbose=False)
    pd.testing.assert_frame_equal(a, b)
    for name in a.FileName:
        fa = decord.VideoReader(str(tmp_path / "a/Videos" / f"{name}.avi")).get_batch([0, 5]).asnumpy()
        fb = decord.VideoReader(str(tmp_path / "b/Videos" / f"{name}.avi")).get_batch([0, 5]).asnumpy()
        assert np.array_equal(fa, fb)
    c = synth.synthesize(tmp_path / "c", n_videos=5, seed=10, workers=1, verbose=False)
    assert set(c.FileName).isdisjoint(a.FileName)


@pytest.mark.parametrize("kw, key", [(dict(n_videos=2), "n_videos"), (dict(split=(0.7, 0.3)), "split"),
                                     (dict(world={"frames": (50, 10)}), "frames"), (dict(world={"fps_low": "fast"}), "fps_low"),
                                     (dict(world={"heart_rate": (10, 5)}), "heart_rate"), (dict(world={"depth": 3}), "depth")])
def test_bad_parameters_name_the_key(tmp_path, kw, key):
    with pytest.raises(ValueError, match=key):
        synth.synthesize(tmp_path / "x", **{"n_videos": 5, **kw})


def test_interrupted_synthesis_leaves_the_old_dataset(tmp_path, monkeypatch):
    "A synth that dies halfway leaves the dataset that was there, whole, and no partial folder beside it."
    synth.synthesize(tmp_path / "ds", n_videos=4, seed=1, workers=1, verbose=False)
    before = (tmp_path / "ds/FileList.csv").read_bytes()
    videos = sorted(p.name for p in (tmp_path / "ds/Videos").iterdir())
    calls = []
    def dies_on_third(args):
        calls.append(1)
        if len(calls) == 3: raise KeyboardInterrupt
        return synth.make_video(*args)
    monkeypatch.setattr(synth, "_make_one", dies_on_third)
    with pytest.raises(KeyboardInterrupt):
        synth.synthesize(tmp_path / "ds", n_videos=6, seed=2, workers=1, verbose=False)
    assert (tmp_path / "ds/FileList.csv").read_bytes() == before
    assert sorted(p.name for p in (tmp_path / "ds/Videos").iterdir()) == videos
    assert [p.name for p in tmp_path.iterdir()] == ["ds"]


# md5 of every file `synthesize(n_videos=3, seed=11, workers=1)` writes, as committed (numpy 2.4, scipy 1.17, OpenCV
# 5.1.0.95); a change here is a change of every dataset's bytes and so of dvc.lock: re-run `dvc repro` and commit both
SYNTH_MD5 = {
    "FileList.csv": "806d47cc10caae1708a4b3de07f5ed40",
    "Videos/0X4BB9651976D33FA1.avi": "db6c2bc7bdc18755112b8bd4a0d38a29",
    "Videos/0X5624EFAE70FC80AA.avi": "98d481b054bedcda0e3d7f5a490b7c94",
    "Videos/0X6500F0C83096ABE8.avi": "d03aa829e6577555283d649199aecc9b",
    "VolumeTracings.csv": "dd8e8d62b5260b072758d60bca4b7f3d",
}
_MD5_SCRIPT = """
import hashlib, json, sys
from pathlib import Path
from cardiacclip.synth import synthesize
out = Path(sys.argv[1])
synthesize(out, n_videos=3, seed=11, workers=1, verbose=False)
print(json.dumps({p.relative_to(out).as_posix(): hashlib.md5(p.read_bytes()).hexdigest() for p in sorted(out.rglob("*")) if p.is_file()}))
"""

def _synth_md5(out, **env):
    import json, os
    r = subprocess.run([sys.executable, "-c", _MD5_SCRIPT, str(out)], capture_output=True, text=True,
                       env={**os.environ, **env}, check=True)
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_synthetic_bytes_are_the_committed_ones(tmp_path):
    "The generator's output is byte-for-byte the committed one: what makes `dvc repro` reproduce dvc.lock's hashes."
    got = _synth_md5(tmp_path / "a")
    drift = {k: (got.get(k), v) for k, v in SYNTH_MD5.items() if got.get(k) != v}
    import cv2, scipy
    assert not drift and set(got) == set(SYNTH_MD5), (
        f"synthetic bytes drifted from the committed ones (numpy {np.__version__}, scipy {scipy.__version__}, OpenCV "
        f"{cv2.__version__}): {drift or sorted(set(got) ^ set(SYNTH_MD5))}")


def test_synthetic_bytes_do_not_depend_on_the_cpu(tmp_path):
    "The same bytes with numpy's and OpenCV's SIMD paths held to the baseline and one thread: what another CPU would take."
    other_cpu = dict(NPY_DISABLE_CPU_FEATURES="X86_V3 X86_V4 AVX512_ICL AVX512_SPR", OPENCV_CPU_DISABLE="AVX512_SKX,AVX2,FMA3,AVX",
                     OMP_NUM_THREADS="1", OPENCV_FOR_THREADS_NUM="1")
    assert _synth_md5(tmp_path / "a") == _synth_md5(tmp_path / "b", **other_cpu)
