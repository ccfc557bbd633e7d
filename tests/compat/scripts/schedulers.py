"""Learning-rate schedules driving optimizers: warmup then cosine, 1cycle, and plateau reduction."""
import torch


def quadratic_steps(optimizer, params, n, scheduler, metric_scheduler=None):
    lrs = []
    for i in range(n):
        loss = sum(((p - 1.0) ** 2).sum() for p in params)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if metric_scheduler is not None:
            metric_scheduler.step(1.0 if i > 3 else 2.0 - i * 0.1)
        else:
            scheduler.step()
        lrs.append(optimizer.param_groups[0]["lr"])
    return lrs, [p.detach().tolist() for p in params]


def main():
    out = {}
    p = [torch.zeros(3, requires_grad=True)]
    opt = torch.optim.SGD(p, lr=0.1, momentum=0.9)
    warm = torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.1, total_iters=3)
    cos = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10, eta_min=0.001)
    seq = torch.optim.lr_scheduler.SequentialLR(opt, schedulers=[warm, cos], milestones=[3])
    out["sequential"] = quadratic_steps(opt, p, 12, seq)
    p = [torch.zeros(2, requires_grad=True), torch.ones(2, requires_grad=True)]
    opt = torch.optim.Adam([{"params": p[:1]}, {"params": p[1:], "lr": 0.05}], lr=0.01)
    one = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=[0.1, 0.2], total_steps=15)
    out["one_cycle"] = quadratic_steps(opt, p, 14, one)
    out["betas"] = list(opt.param_groups[1]["betas"])
    p = [torch.zeros(2, requires_grad=True)]
    opt = torch.optim.Adagrad(p, lr=0.5)
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=0.5, patience=2)
    out["plateau"] = quadratic_steps(opt, p, 12, None, plateau)
    p = [torch.zeros(2, requires_grad=True)]
    opt = torch.optim.Adadelta(p, lr=1.0)
    multi = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[3, 6], gamma=0.3)
    lam = torch.optim.lr_scheduler.LambdaLR(torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0),
                                            lr_lambda=lambda e: 1 / (1 + e))
    out["multistep"] = quadratic_steps(opt, p, 8, multi)
    lam.optimizer.step()
    lam.step()
    out["lambda"] = lam.get_last_lr()
    return out
