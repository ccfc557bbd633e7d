"""The tutorial's image classifier: a LeNet-style Net, CrossEntropyLoss, SGD with momentum, a DataLoader, accuracy."""
import os
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset

classes = ("plane", "car", "bird", "cat")


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(4, 8, 3)
        self.fc1 = nn.Linear(8 * 2 * 2, 24)
        self.fc2 = nn.Linear(24, 16)
        self.fc3 = nn.Linear(16, 4)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


def make_data(rng, n):
    labels = rng.integers(0, 4, n)
    images = rng.standard_normal((n, 3, 14, 14)).astype(np.float32) * 0.5
    for i, c in enumerate(labels):
        images[i, c % 3, 3 * c:3 * c + 4, :] += 1.5  # each class lights a band of a channel
    return TensorDataset(torch.from_numpy(images), torch.from_numpy(labels))


def main():
    rng = np.random.default_rng(0)
    trainset, testset = make_data(rng, 48), make_data(rng, 24)
    trainloader = DataLoader(trainset, batch_size=8, shuffle=False, num_workers=0)
    testloader = DataLoader(testset, batch_size=8, shuffle=False)
    dataiter = iter(trainloader)
    images, labels = next(dataiter)
    first_labels = " ".join(f"{classes[labels[j]]:5s}" for j in range(4))

    net = Net()
    init = np.random.default_rng(1)
    with torch.no_grad():
        for _name, param in net.named_parameters():
            param.copy_(torch.from_numpy(init.uniform(-0.3, 0.3, param.shape).astype(np.float32)))
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(net.parameters(), lr=0.01, momentum=0.9)

    losses = []
    for epoch in range(3):
        running_loss = 0.0
        for i, data in enumerate(trainloader, 0):
            inputs, labels = data
            optimizer.zero_grad()
            outputs = net(inputs)
            loss = criterion(outputs, labels)
            loss.backward()
            optimizer.step()
            running_loss += loss.item()
            if i % 3 == 2:
                print(f"[{epoch + 1}, {i + 1:5d}] loss: {running_loss / 3:.3f}")
                losses.append(running_loss / 3)
                running_loss = 0.0

    with tempfile.TemporaryDirectory() as d:
        PATH = os.path.join(d, "cifar_net.pth")
        torch.save(net.state_dict(), PATH)
        net = Net()
        net.load_state_dict(torch.load(PATH, weights_only=True))

    net.eval()
    correct = 0
    total = 0
    with torch.no_grad():
        for data in testloader:
            images, labels = data
            outputs = net(images)
            _, predicted = torch.max(outputs.data, 1)
            total += labels.size(0)
            correct += (predicted == labels).sum().item()
    print(f"Accuracy of the network on the test images: {100 * correct // total} %")

    correct_pred = {classname: 0 for classname in classes}
    total_pred = {classname: 0 for classname in classes}
    with torch.no_grad():
        for data in testloader:
            images, labels = data
            outputs = net(images)
            _, predictions = torch.max(outputs, 1)
            for label, prediction in zip(labels, predictions):
                if label == prediction:
                    correct_pred[classes[label]] += 1
                total_pred[classes[label]] += 1
    per_class = {c: 100 * float(correct_pred[c]) / max(total_pred[c], 1) for c in classes}
    return {"first_labels": first_labels, "losses": losses, "correct": correct, "total": total,
            "per_class": per_class, "batch_shape": list(images.shape)}
