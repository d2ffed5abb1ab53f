"The diagnostic in tools/prior_shift.py reads out exactly what the model predicts."
import importlib.util
from pathlib import Path
import numpy as np
import torch
from cardiacclip.data import EchoNet
from cardiacclip.model import CardiacCLIP, model_config
from cardiacclip.trainer import predict

spec = importlib.util.spec_from_file_location("prior_shift", Path(__file__).parents[1] / "tools" / "prior_shift.py")
prior_shift = importlib.util.module_from_spec(spec); spec.loader.exec_module(prior_shift)


def test_category_prior_counts_categories():
    p = prior_shift.category_prior([10, 20, 40, 60, 60, 60, 80])           # categories 0, 0, 1, 3, 3, 3, 4
    assert np.allclose(p.numpy(), np.array([2.5, 1.5, 0.5, 3.5, 1.5]) / 9.5)


def test_head_terms_reproduce_the_model_prediction(echo_root):
    torch.manual_seed(0)
    model = CardiacCLIP(model_config("cardiacclip", image_size=64)).eval()
    with torch.no_grad():                                                  # a refinement that is not the identity
        model.head.shift.weight.normal_(0, 0.1)
    ds = EchoNet(echo_root, "VAL", length=4, period=3, targets=("EF",))
    logits, values, ef = prior_shift.head_terms(model, ds)
    pred = predict(model, ds, device="cpu")
    assert np.allclose((logits.softmax(-1) * values).sum(-1).numpy(), pred.pred.to_numpy(), atol=1e-4)
    assert np.allclose(ef.numpy(), pred.EF.to_numpy())
