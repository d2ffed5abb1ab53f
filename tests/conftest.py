import os
import pytest
from cardiacclip import synth

os.environ.setdefault("OMP_NUM_THREADS", "2")


@pytest.fixture(scope="session")
def echo_root(tmp_path_factory):
    "A small synthetic EchoNet-Dynamic-style dataset shared by the tests (read-only: copy it before damaging it)."
    root = tmp_path_factory.mktemp("echo") / "ds"
    synth.synthesize(root, n_videos=48, seed=11, workers=2, verbose=False)
    return root
