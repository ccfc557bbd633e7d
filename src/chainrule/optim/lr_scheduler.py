"""Learning-rate schedules with PyTorch's (recursive) formulas, ``get_last_lr`` and state dicts.

A scheduler changes ``group["lr"]`` of its optimizer's groups each ``step()``;
as in PyTorch, constructing one already performs step 0.
"""
from __future__ import annotations

import math
from collections import Counter

from .. import arguments as arg
from .optimizer import Optimizer, OptimizerStateError


class LRScheduler:
    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: {type(optimizer).__name__} is not a cr.optim.Optimizer")
        self.optimizer = optimizer
        last_epoch = arg.integer(type(self).__name__, "last_epoch", last_epoch, -1)
        if last_epoch == -1:
            for g in optimizer.param_groups:
                g.setdefault("initial_lr", g["lr"])
        else:
            for i, g in enumerate(optimizer.param_groups):
                if "initial_lr" not in g:
                    raise KeyError(f"param 'initial_lr' is not specified in param_groups[{i}] when resuming "
                                   "an optimizer")
        self.base_lrs = [g["initial_lr"] for g in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        self._is_initial = True
        self.step()
        self._is_initial = False

    def get_lr(self) -> list[float]:
        raise NotImplementedError

    def step(self, epoch: int | None = None) -> None:
        self._step_count += 1
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            values = self._closed_form() if hasattr(self, "_closed_form") else self.get_lr()
        for g, lr in zip(self.optimizer.param_groups, values):
            g["lr"] = lr
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        return self._last_lr

    def state_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict) -> None:
        """Only the keys this scheduler's own state has, each the same kind of value as now.

        Never ``__dict__.update`` from a file: a key named like a method
        (``get_lr``) or a string where a number goes is an OptimizerStateError.
        """
        from ..errors import DataError
        from ..schema import conform

        name = type(self).__name__
        current = self.state_dict()
        if not isinstance(state_dict, dict):
            raise OptimizerStateError(f"{name} state must be a dict, got {type(state_dict).__name__}")
        unknown = sorted(map(str, set(state_dict) - set(current)))
        if unknown:
            raise OptimizerStateError(f"{name} state has unknown keys {unknown[:6]} (a {name} has {sorted(current)})")
        try:
            checked = {k: conform(current[k], v, f"{name} state {k!r}") for k, v in state_dict.items()}
        except DataError as e:
            raise OptimizerStateError(str(e)) from None
        self.__dict__.update(checked)

    def _lrs(self) -> list[float]:
        return [g["lr"] for g in self.optimizer.param_groups]


class StepLR(LRScheduler):
    """lr ← lr·γ every ``step_size`` epochs."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1) -> None:
        self.step_size = arg.integer("StepLR", "step_size", step_size)
        if step_size < 1:  # PyTorch fails later, dividing by zero in step()
            raise arg.ArgumentError(f"StepLR: step_size must be a positive number of epochs, got {step_size}")
        self.gamma = arg.number("StepLR", "gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._lrs()
        return [lr * self.gamma for lr in self._lrs()]

    def _closed_form(self) -> list[float]:
        return [b * self.gamma ** (self.last_epoch // self.step_size) for b in self.base_lrs]


class ExponentialLR(LRScheduler):
    """lr ← lr·γ every epoch."""

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = arg.number("ExponentialLR", "gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial:
            return self._lrs()
        return [lr * self.gamma for lr in self._lrs()]

    def _closed_form(self) -> list[float]:
        return [b * self.gamma ** self.last_epoch for b in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """η_t = η_min + (η_base − η_min)(1 + cos(πt/T_max))/2, applied recursively as PyTorch does."""

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1) -> None:
        self.T_max = arg.integer("CosineAnnealingLR", "T_max", T_max)
        if T_max < 1:  # PyTorch fails later, dividing by zero in step()
            raise arg.ArgumentError(f"CosineAnnealingLR: T_max must be a positive number of epochs, got {T_max}")
        self.eta_min = arg.number("CosineAnnealingLR", "eta_min", eta_min)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        t, T, lo = self.last_epoch, self.T_max, self.eta_min
        groups = self._lrs()
        if self._is_initial:
            return groups
        if self._step_count == 1 and t > 0:
            return [lo + (b - lo) * (1 + math.cos(t * math.pi / T)) / 2 for b in self.base_lrs]
        if (t - 1 - T) % (2 * T) == 0:
            return [lr + (b - lo) * (1 - math.cos(math.pi / T)) / 2 for lr, b in zip(groups, self.base_lrs)]
        return [(1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T)) * (lr - lo) + lo
                for lr in groups]

    def _closed_form(self) -> list[float]:
        lo = self.eta_min
        return [lo + (b - lo) * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2 for b in self.base_lrs]


class LinearLR(LRScheduler):
    """Scale lr linearly from ``start_factor`` to ``end_factor`` over ``total_iters`` epochs."""

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                 total_iters: int = 5, last_epoch: int = -1) -> None:
        self.start_factor = arg.number("LinearLR", "start_factor", start_factor, 0.0, 1.0, lo_open=True)
        self.end_factor = arg.number("LinearLR", "end_factor", end_factor, 0.0, 1.0)
        self.total_iters = arg.integer("LinearLR", "total_iters", total_iters, 1)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        groups = self._lrs()
        if self.last_epoch == 0:
            return [lr * self.start_factor for lr in groups]
        if self._is_initial or self.last_epoch > self.total_iters:
            return groups
        s, e, n = self.start_factor, self.end_factor, self.total_iters
        return [lr * (1.0 + (e - s) / (n * s + (self.last_epoch - 1) * (e - s))) for lr in groups]

    def _closed_form(self) -> list[float]:
        s, e, n = self.start_factor, self.end_factor, self.total_iters
        return [b * (s + (e - s) * min(n, self.last_epoch) / n) for b in self.base_lrs]


class MultiStepLR(LRScheduler):
    """lr ← lr·γ at each epoch listed in ``milestones`` (γ^k if it is listed k times)."""

    def __init__(self, optimizer: Optimizer, milestones, gamma: float = 0.1, last_epoch: int = -1) -> None:
        self.milestones = Counter(arg.integer("MultiStepLR", "a milestone", m, 0) for m in milestones)
        self.gamma = arg.number("MultiStepLR", "gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch not in self.milestones:
            return self._lrs()
        return [lr * self.gamma ** self.milestones[self.last_epoch] for lr in self._lrs()]

    def _closed_form(self) -> list[float]:
        passed = sum(n for m, n in self.milestones.items() if m <= self.last_epoch)
        return [b * self.gamma ** passed for b in self.base_lrs]


class LambdaLR(LRScheduler):
    """lr = base_lr · λ(epoch), with one function per group or one for all."""

    def __init__(self, optimizer: Optimizer, lr_lambda, last_epoch: int = -1) -> None:
        n = len(optimizer.param_groups)
        self.lr_lambdas = list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) else [lr_lambda] * n
        if len(self.lr_lambdas) != n:
            raise ValueError(f"LambdaLR: expected {n} lr_lambdas (one per group), got {len(self.lr_lambdas)}")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [b * f(self.last_epoch) for f, b in zip(self.lr_lambdas, self.base_lrs)]

    def state_dict(self) -> dict:
        """Functions are not state (they cannot be saved); everything else is."""
        return {k: v for k, v in super().state_dict().items() if k != "lr_lambdas"}


_LRScheduler = LRScheduler
