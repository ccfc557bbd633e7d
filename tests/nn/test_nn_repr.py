"""print(model) gives PyTorch's module tree, layer by layer, character for character."""
import pytest
import torch

import chainrule as cr


def _layers(nn):
    return [
        nn.Conv2d(1, 2, 3), nn.Conv2d(1, 2, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(2),
        nn.MaxPool2d(2), nn.AvgPool2d(2), nn.Flatten(), nn.Dropout(0.2), nn.Embedding(5, 3, padding_idx=0),
        nn.Embedding(5, 3), nn.LeakyReLU(), nn.LeakyReLU(0.2), nn.GELU(), nn.GELU("tanh"), nn.Softmax(dim=1),
        nn.LogSoftmax(1), nn.Identity(), nn.BatchNorm1d(3), nn.LayerNorm(4), nn.ReLU(), nn.Tanh(),
        nn.Sigmoid(), nn.CrossEntropyLoss(), nn.MSELoss(), nn.NLLLoss(), nn.BCEWithLogitsLoss(), nn.L1Loss(),
        nn.Linear(2, 3, bias=False), nn.ModuleList([nn.Linear(1, 1), nn.Linear(1, 1), nn.ReLU()]),
        nn.ModuleDict({"a": nn.ReLU()}), nn.Sequential(), nn.ModuleList(),
    ]


@pytest.mark.parametrize("i", range(len(_layers(cr.nn))))
def test_each_layer_prints_like_pytorch(i):
    assert repr(_layers(cr.nn)[i]) == repr(_layers(torch.nn)[i])


def test_a_custom_model_prints_its_tree_like_pytorch():
    def build(nn):
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.features = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
                self.blocks = nn.ModuleList([nn.Linear(8, 8) for _ in range(3)])
                self.head = nn.Linear(8, 2)

        return Net()

    assert str(build(cr.nn)) == str(build(torch.nn))
