"""DCGAN-style generator and discriminator: ConvTranspose2d, BatchNorm2d, LeakyReLU, Tanh, Sigmoid, BCELoss,
Adam(betas=(0.5, 0.999)), alternating updates with detach()."""
import numpy as np
import torch
import torch.nn as nn

NZ, NGF, NDF = 4, 4, 4


def generator():
    return nn.Sequential(
        nn.ConvTranspose2d(NZ, NGF * 2, 4, 1, 0, bias=False), nn.BatchNorm2d(NGF * 2), nn.ReLU(True),
        nn.ConvTranspose2d(NGF * 2, NGF, 4, 2, 1, bias=False), nn.BatchNorm2d(NGF), nn.ReLU(True),
        nn.ConvTranspose2d(NGF, 1, 4, 2, 1, bias=False), nn.Tanh())


def discriminator():
    return nn.Sequential(
        nn.Conv2d(1, NDF, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(NDF, NDF * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(NDF * 2), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(NDF * 2, 1, 4, 1, 0, bias=False), nn.Sigmoid())


def main():
    rng = np.random.default_rng(5)
    net_g, net_d = generator(), discriminator()
    with torch.no_grad():
        for p in list(net_g.parameters()) + list(net_d.parameters()):
            p.copy_(torch.from_numpy((rng.standard_normal(tuple(p.shape)) * 0.2).astype(np.float32)))
    criterion = nn.BCELoss()
    opt_d = torch.optim.Adam(net_d.parameters(), lr=2e-3, betas=(0.5, 0.999))
    opt_g = torch.optim.Adam(net_g.parameters(), lr=2e-3, betas=(0.5, 0.999))
    real = torch.from_numpy(np.tanh(rng.standard_normal((6, 1, 16, 16))).astype(np.float32))
    noise = torch.from_numpy(rng.standard_normal((6, NZ, 1, 1)).astype(np.float32))
    d_losses, g_losses = [], []
    for _ in range(3):
        net_d.zero_grad()
        label = torch.full((6,), 1.0)
        err_real = criterion(net_d(real).view(-1), label)
        err_real.backward()
        fake = net_g(noise)
        label.fill_(0.0)
        err_fake = criterion(net_d(fake.detach()).view(-1), label)
        err_fake.backward()
        opt_d.step()
        net_g.zero_grad()
        label.fill_(1.0)
        err_g = criterion(net_d(fake).view(-1), label)
        err_g.backward()
        opt_g.step()
        d_losses.append((err_real + err_fake).item())
        g_losses.append(err_g.item())
    return {"d": d_losses, "g": g_losses, "fake_shape": list(fake.shape), "netG": str(net_g), "netD": str(net_d),
            "running_mean": net_g[1].running_mean.tolist()}
