import shutil
import numpy as np
import pandas as pd
import pytest
import torch
import cv2
from cardiacclip.data import EchoNet, few_shot, clip_starts, mean_std, read_filelist, read_tracings


def test_reader_shapes_dtypes_ranges(echo_root):
    ds = EchoNet(echo_root, "VAL", length=8, period=3, tracings=True)
    x, y = ds[0]
    assert x.shape == (8, 3, 112, 112) and x.dtype == torch.float32
    assert 0 <= float(x.min()) and float(x.max()) <= 255
    assert {"EF", "ESV", "EDV", "FileName", "EDFrame", "ESFrame", "EDTrace", "ESTrace"} <= set(y)
    assert 0 < float(y["EF"]) < 100 and float(y["ESV"]) < float(y["EDV"])
    assert y["EDTrace"].shape == (112, 112) and y["EDTrace"].dtype == torch.uint8
    assert int(y["EDTrace"].sum()) > int(y["ESTrace"].sum()) > 50


def test_normalisation_and_loader(echo_root):
    mu, sd = mean_std(echo_root, samples=6)
    ds = EchoNet(echo_root, "TRAIN", length=4, period=2, mean=mu, std=sd)
    x, y = next(iter(torch.utils.data.DataLoader(ds, batch_size=3, num_workers=0)))
    assert x.shape == (3, 4, 3, 112, 112) and y["EF"].shape == (3,)
    assert abs(float(x.mean())) < 1.0                     # roughly centred


def test_clip_sampling_follows_period(echo_root):
    ds = EchoNet(echo_root, "TEST", length=5, period=4, targets=("EF",))
    frames, _ = ds.read(0, np.arange(0, 17, 4))
    x, _ = ds[0]
    assert torch.equal(x, torch.from_numpy(frames).permute(0, 3, 1, 2).float())


def test_padding_of_short_videos(echo_root):
    ds = EchoNet(echo_root, "TEST", length=150, period=2, targets=("EF",))
    n = int(ds.filelist.NumberOfFrames[0])
    x, _ = ds[0]
    real = (n + 1) // 2
    assert x.shape[0] == 150 and x[:real].abs().sum() > 0 and x[real:].abs().sum() == 0


def test_train_crop_and_start_are_random_but_seeded(echo_root):
    ds = EchoNet(echo_root, "TRAIN", length=4, period=2, pad=12, seed=3)
    a = ds[0][0]; ds.set_epoch(1); b = ds[0][0]; ds.set_epoch(0)
    assert not torch.equal(a, b) and torch.equal(a, ds[0][0])
    ev = EchoNet(echo_root, "VAL", length=4, period=2, pad=12)
    assert torch.equal(ev[0][0], EchoNet(echo_root, "VAL", length=4, period=2)[0][0])   # eval: centre crop, first clip


def test_all_clips_mode(echo_root):
    ds = EchoNet(echo_root, "TEST", length=8, period=2, clips="all")
    n = int(ds.filelist.NumberOfFrames[0])
    x, _ = ds[0]
    assert x.shape == (len(clip_starts(n, 8, 2, "all")), 8, 3, 112, 112)
    assert x.shape[0] >= n // 16


def test_few_shot_counts_and_determinism(echo_root):
    fl = read_filelist(echo_root / "FileList.csv")
    bins = np.floor(fl[fl.Split == "TRAIN"].EF).astype(int)
    for k in (1, 2, 4):
        fs = few_shot(fl, k, seed=0)
        tr = fs[fs.Split == "TRAIN"]
        assert len(tr) == int(np.minimum(bins.value_counts(), k).sum())
        assert np.floor(tr.EF).astype(int).value_counts().max() <= k
        pd.testing.assert_frame_equal(fs, few_shot(fl, k, seed=0))
        pd.testing.assert_frame_equal(fs[fs.Split != "TRAIN"], fl[fl.Split != "TRAIN"])
    fl2 = pd.concat([fl, fl.assign(FileName=fl.FileName + "b")], ignore_index=True)   # 2 videos per bin at least
    assert not few_shot(fl2, 1, seed=0).equals(few_shot(fl2, 1, seed=1))


def test_few_shot_filelist_feeds_the_dataset(echo_root):
    fs = few_shot(read_filelist(echo_root / "FileList.csv"), 1, seed=0)
    ds = EchoNet(echo_root, "TRAIN", filelist=fs, length=2)
    assert len(ds) == (fs.Split == "TRAIN").sum()


@pytest.fixture
def damaged(echo_root, tmp_path):
    root = tmp_path / "damaged"
    shutil.copytree(echo_root, root)
    return root


def _edit_filelist(root, fn):
    df = pd.read_csv(root / "FileList.csv"); df = fn(df); df.to_csv(root / "FileList.csv", index=False)
    return df


def test_missing_video_raises_or_is_counted(damaged):
    df = pd.read_csv(damaged / "FileList.csv")
    name = df[df.Split == "TEST"].FileName.iloc[1]
    (damaged / "Videos" / f"{name}.avi").unlink()
    with pytest.raises(FileNotFoundError, match=name):
        EchoNet(damaged, "TEST")
    ds = EchoNet(damaged, "TEST", on_error="skip")
    assert len(ds) == (df.Split == "TEST").sum() - 1 and len(ds.skipped) == 1 and name in ds.skipped[0][1]
    EchoNet(damaged, "TRAIN")                            # other splits are unaffected


def test_corrupt_video(damaged):
    df = pd.read_csv(damaged / "FileList.csv")
    name = df[df.Split == "VAL"].FileName.iloc[0]
    (damaged / "Videos" / f"{name}.avi").write_bytes(b"\x00garbage" * 100)
    ds = EchoNet(damaged, "VAL")
    i = int(np.flatnonzero(ds.filelist.FileName == name)[0])
    with pytest.raises(RuntimeError, match=name):
        ds[i]
    assert len(EchoNet(damaged, "VAL", on_error="skip").skipped) == 1


def test_zero_frame_video(damaged):
    df = pd.read_csv(damaged / "FileList.csv")
    name = df[df.Split == "VAL"].FileName.iloc[0]
    w = cv2.VideoWriter(str(damaged / "Videos" / f"{name}.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 50, (112, 112))
    w.release()
    ds = EchoNet(damaged, "VAL")
    i = int(np.flatnonzero(ds.filelist.FileName == name)[0])
    with pytest.raises(RuntimeError, match=name):
        ds[i]
    sk = EchoNet(damaged, "VAL", on_error="skip")
    assert len(sk.skipped) == 1 and len(sk) == len(ds) - 1


@pytest.mark.parametrize("edit, match", [
    (lambda d: d.drop(columns=["Split"]), "missing column"),
    (lambda d: d.assign(EF=d.EF.where(d.index != 4, np.nan)), "row 6"),
    (lambda d: d.assign(EF=d.EF.where(d.index != 2, -5.0)), "row 4"),
    (lambda d: d.assign(Split=d.Split.where(d.index != 0, "TRIAN")), "TRIAN"),
    (lambda d: d.assign(ESV=d.ESV.where(d.index != 1, np.nan)), "ESV"),
])
def test_bad_filelist(damaged, edit, match):
    _edit_filelist(damaged, edit)
    with pytest.raises(ValueError, match=match):
        EchoNet(damaged, "TRAIN")


def test_bad_tracings(damaged):
    tr = pd.read_csv(damaged / "VolumeTracings.csv")
    tr.drop(columns=["Frame"]).to_csv(damaged / "VolumeTracings.csv", index=False)
    with pytest.raises(ValueError, match="Frame"):
        read_tracings(damaged / "VolumeTracings.csv")


def test_one_traced_frame_names_the_video(damaged):
    "A video traced on one frame only (ED or ES missing) is an error naming the file, not a crash deep in a batch."
    tr = pd.read_csv(damaged / "VolumeTracings.csv")
    name = pd.read_csv(damaged / "FileList.csv").query("Split == 'TRAIN'").FileName.iloc[2]
    mine = tr.FileName.str.replace(".avi", "", regex=False) == name
    first = tr[mine].Frame.iloc[0]
    tr[~mine | (tr.Frame == first)].to_csv(damaged / "VolumeTracings.csv", index=False)
    with pytest.raises(ValueError, match=f"VolumeTracings.csv: {name} has traced frame"):
        EchoNet(damaged, "TRAIN", tracings=True)


def test_two_clip_stores_written_at_once_do_not_collide(echo_root, tmp_path):
    "Two writers of one clip store (two `cardiacclip clips` at once) use their own temp files; the store ends whole."
    from concurrent.futures import ThreadPoolExecutor
    from cardiacclip.data import write_clip_store, read_clip_store, read_filelist
    with ThreadPoolExecutor(2) as ex:
        list(ex.map(lambda _: write_clip_store(echo_root, tmp_path / "store", ("VAL",), length=4, period=3), range(2)))
    fl = read_filelist(echo_root / "FileList.csv"); val = fl[fl.Split == "VAL"]
    clips, rows = read_clip_store(tmp_path / "store", "VAL", echo_root, val, 4, 3)
    assert len(clips) == len(val) and not list((tmp_path / "store").glob("*.tmp"))


@pytest.mark.parametrize("kw, match", [(dict(split="TRAINING"), "split"), (dict(length=0), "length"),
                                       (dict(on_error="ignore"), "on_error"), (dict(clips="some"), "clips")])
def test_bad_parameters(echo_root, kw, match):
    with pytest.raises(ValueError, match=match):
        EchoNet(echo_root, **kw)[0]


def test_missing_root(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        EchoNet(tmp_path / "nowhere")


def test_strided_read_equals_per_frame_access(echo_root):
    "A strided request returns exactly the frames decord's one-frame-at-a-time access returns, past-the-end ones left out."
    import decord
    from cardiacclip.data import video_path
    ds = EchoNet(echo_root, "TEST", length=8, period=6, targets=("EF",))
    vr = decord.VideoReader(str(video_path(echo_root, ds.filelist.FileName[0])))
    n = len(vr)
    idx = np.arange(n - 20, n + 22, 6)                                  # the last ones lie past the end
    frames, n_read = ds.read(0, idx)
    inside = idx[idx < n]
    assert n_read == n and len(frames) == len(inside) < len(idx)
    assert np.array_equal(frames, np.stack([vr[int(i)].asnumpy() for i in inside]))
