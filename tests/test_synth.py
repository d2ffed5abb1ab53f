import numpy as np
import pandas as pd
import decord
import pytest
from cardiacclip import synth
from cardiacclip.data import read_tracings, ed_es, video_path
from cardiacclip.synth import trace_volume


def test_layout_and_columns(echo_root):
    fl = pd.read_csv(echo_root / "FileList.csv")
    assert list(fl.columns) == synth.FILELIST_COLUMNS
    assert set(fl.Split) == {"TRAIN", "VAL", "TEST"}
    tr = pd.read_csv(echo_root / "VolumeTracings.csv")
    assert list(tr.columns) == synth.TRACING_COLUMNS
    assert (tr.groupby("FileName").Frame.nunique() == 2).all()
    assert (tr.groupby(["FileName", "Frame"]).size() == synth.N_CHORDS + 1).all()


def test_videos_match_filelist(echo_root):
    fl = pd.read_csv(echo_root / "FileList.csv")
    for r in fl.head(6).itertuples():
        vr = decord.VideoReader(str(video_path(echo_root, r.FileName)))
        assert len(vr) == r.NumberOfFrames and 100 <= len(vr) <= 250
        assert vr[0].shape == (112, 112, 3)
        assert abs(vr.get_avg_fps() - r.FPS) < 0.5 and 45 <= r.FPS <= 55
        f = vr[0].asnumpy()
        f = f.astype(int)
        assert np.abs(f[..., 0] - f[..., 1]).max() <= 3 and np.abs(f[..., 2] - f[..., 1]).max() <= 3                                         # grayscale in 3 channels (up to MJPG's YUV rounding)


def test_ef_from_tracings_agrees_with_filelist(echo_root):
    fl = pd.read_csv(echo_root / "FileList.csv").set_index("FileName")
    traces = read_tracings(echo_root / "VolumeTracings.csv")
    for name, frames in traces.items():
        ed, es = ed_es(frames)
        ef = 100 * (1 - trace_volume(frames[es]) / trace_volume(frames[ed]))
        assert abs(ef - fl.EF[name]) < 1, name
        assert ed < es                                          # ES follows ED within the beat


@pytest.mark.parametrize("index", range(8))
def test_ef_of_drawn_cavity_agrees(index):
    "EF measured on the drawn pixels (area-length) agrees with the disc EF written to the CSV (|dEF| < 1)."
    case = synth.sample_case(3, index)
    frames, cav = synth.render(case, return_cavity=True)
    apex, axis, L, W, vol, _ = synth.lv_geometry(case)
    ed, es = synth.ed_es_frames(vol, case.fps, case.heart_rate)
    ef_disc = 100 * (1 - synth.trace_volume(synth.trace_rows(apex, axis, L[es], W[es]))
                     / synth.trace_volume(synth.trace_rows(apex, axis, L[ed], W[ed])))
    ef_pix = 100 * (1 - synth.area_length_volume(cav[es], L[es]) / synth.area_length_volume(cav[ed], L[ed]))
    assert abs(ef_disc - ef_pix) < 1
    assert abs(ef_disc - case.ef_target) < 3                    # sampled frames land near true ED/ES


def test_heart_beats_in_pixels():
    "The LV cavity is visibly larger at ED than at ES in the rendered frames (the model must see motion)."
    case = synth.sample_case(0, 2)
    frames, cav = synth.render(case, return_cavity=True)
    _, _, _, _, vol, _ = synth.lv_geometry(case)
    ed, es = synth.ed_es_frames(vol, case.fps, case.heart_rate)
    ratio = cav[es].sum() / cav[ed].sum()
    assert ratio < 0.95
    assert frames[ed].mean() != frames[es].mean()


def test_low_ef_hearts_are_dilated():
    cases = [synth.sample_case(1, i) for i in range(400)]
    ef = np.array([c.ef_target for c in cases]); edv = np.array([c.edv_ml for c in cases])
    assert edv[ef < 40].mean() > edv[ef > 55].mean() + 20


def test_ef_distribution_shape():
    ef = synth.sample_ef(np.random.default_rng(0), 5000)
    assert 0.55 < ((ef >= 50) & (ef <= 70)).mean() < 0.85
    assert ef.min() < 15 and ef.max() > 82


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
                                     (dict(frames=(300, 100)), "frames"), (dict(fps="fast"), "fps"),
                                     (dict(heart_rate=(0, 10)), "heart_rate")])
def test_bad_parameters_name_the_key(tmp_path, kw, key):
    with pytest.raises(ValueError, match=key):
        synth.synthesize(tmp_path / "x", **{"n_videos": 5, **kw})
