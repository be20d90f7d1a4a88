"""PyTorch twins of tensorgrad.nn.models' ResNets: the same layers under the same names, so
state_dicts load both ways (``twin.load_state_dict`` of tensorgrad's arrays, and back)."""
import torch
import torch.nn.functional as F
from torch import nn


class BasicBlock(nn.Module):
    def __init__(self, in_channels, channels, stride=1, shortcut="A"):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.stride, self.kind = stride, shortcut
        self.changes_size = stride != 1 or in_channels != channels
        self.extra_channels = channels - in_channels
        if self.changes_size and shortcut == "B":
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(channels))

    def forward(self, x):
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        if not self.changes_size:
            short = x
        elif self.kind == "B":
            short = self.shortcut(x)
        else:
            half = self.extra_channels // 2
            short = F.pad(x[:, :, ::self.stride, ::self.stride],
                          (0, 0, 0, 0, half, self.extra_channels - half))
        return F.relu(out + short)


class ResNet(nn.Module):
    def __init__(self, blocks, widths, num_classes=10, in_channels=3, shortcut="A"):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, widths[0], 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        stages, previous = [], widths[0]
        for i, (count, width) in enumerate(zip(blocks, widths)):
            stride = 1 if i == 0 else 2
            stage = nn.Sequential(*[BasicBlock(previous if j == 0 else width, width,
                                               stride if j == 0 else 1, shortcut)
                                    for j in range(count)])
            self.add_module(f"layer{i + 1}", stage)
            stages.append(stage)
            previous = width
        self.stages = stages
        self.linear = nn.Linear(previous, num_classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        for stage in self.stages:
            x = stage(x)
        return self.linear(x.mean(dim=(2, 3)))


def resnet(name: str, num_classes: int = 10, in_channels: int = 3) -> ResNet:
    """The twin of tensorgrad.nn.models.<name> for resnet20/32/56/18."""
    if name == "resnet18":
        return ResNet([2, 2, 2, 2], [64, 128, 256, 512], num_classes, in_channels, "B")
    depth = int(name.removeprefix("resnet"))
    return ResNet([(depth - 2) // 6] * 3, [16, 32, 64], num_classes, in_channels, "A")
