"""``cr.optim``: optimizers with PyTorch's update rules and state-dict layout, and LR schedules."""
from __future__ import annotations

from . import lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam
from .adam_variants import Adamax, NAdam, RAdam
from .adamw import AdamW
from .optimizer import Optimizer, OptimizerStateError
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Adamax", "NAdam", "RAdam",
           "Optimizer", "OptimizerStateError", "RMSprop", "lr_scheduler"]
