import json, os, signal, subprocess, sys, time
from pathlib import Path
import pandas as pd
import pytest

SCRIPT = r'''
import sys, torch
torch.set_num_threads(1)
from cardiacclip.data import EchoNet
from cardiacclip.model import CardiacCLIP, model_config
from cardiacclip.trainer import Trainer, seed_everything
root, out, method, epochs, steps = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
seed_everything(0)
clip = dict(length=4, period=8)
model = CardiacCLIP(model_config(method, image_size=48))
tr = Trainer(model, EchoNet(root, "TRAIN", pad=12, **clip), EchoNet(root, "VAL", **clip), out, epochs=epochs,
             steps_per_epoch=steps, batch_size=4, lrs={"image": 1e-3, "text": 5e-4, "mfl": 1e-3, "head": 3e-3},
             progress=False, device="cpu")
tr.fit()
'''


def _run(root, out, kill_after_epoch=None):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    p = subprocess.Popen([sys.executable, "-c", SCRIPT, str(root), str(out), "cardiacclip", "4", "4"], env=env)
    if kill_after_epoch is None:
        assert p.wait(timeout=600) == 0
        return
    hist = Path(out) / "history.csv"
    deadline = time.time() + 600
    while time.time() < deadline:
        if hist.is_file() and len(pd.read_csv(hist)) >= kill_after_epoch:
            time.sleep(0.7)                                  # now somewhere inside the next epoch
            break
        assert p.poll() is None, "training ended before it could be killed"
        time.sleep(0.05)
    p.send_signal(signal.SIGKILL); p.wait()


def test_killed_run_resumes_to_the_same_result(echo_root, tmp_path):
    _run(echo_root, tmp_path / "full")
    _run(echo_root, tmp_path / "killed", kill_after_epoch=2)
    killed = pd.read_csv(tmp_path / "killed" / "history.csv")
    assert 2 <= len(killed) < 4                             # it really was interrupted
    _run(echo_root, tmp_path / "killed")                    # restart: resumes from last.pt
    full = pd.read_csv(tmp_path / "full" / "history.csv")
    resumed = pd.read_csv(tmp_path / "killed" / "history.csv")
    assert len(resumed) == 4
    for col in ("train_total", "val_mae", "val_rmse"):
        assert abs(resumed[col].iloc[-1] - full[col].iloc[-1]) < 1e-3, col

def test_ddp_two_processes_match_one(echo_root, tmp_path):
    "torchrun with 2 gloo processes and the same global batch ends with the metrics of 1 process."
    script = tmp_path / "ddp_train.py"; script.write_text(SCRIPT)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    args = ["mfl", "2", "3"]
    subprocess.run([sys.executable, str(script), str(echo_root), str(tmp_path / "one"), *args], env=env, check=True,
                   timeout=600)
    r = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                        str(script), str(echo_root), str(tmp_path / "two"), *args], env=env, capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    one = pd.read_csv(tmp_path / "one" / "history.csv"); two = pd.read_csv(tmp_path / "two" / "history.csv")
    assert len(one) == len(two) == 2
    for col in ("train_total", "val_mae", "val_rmse"):
        assert abs(one[col].iloc[-1] - two[col].iloc[-1]) < 1e-3, (col, one[col].tolist(), two[col].tolist())
    assert (tmp_path / "two" / "best.pt").is_file()
