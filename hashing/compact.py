"""A compact CNN for small grey cutouts, and the rotation augmentation it trains with.

The FIRST galaxies are 10-20 px across in the middle of a 300 px image: a network of about
250k parameters (five 3 x 3 convolution blocks with BatchNorm, ReLU and 2 x 2 max pooling, then
global average pooling) sees them whole at 96 px and trains from scratch on two CPU cores in
minutes. Rotation by any angle is exact in distribution only if nothing enters from outside the
crop, so training images are kept with a margin (``ROTATION_MARGIN`` times the crop) and each
batch is rotated, flipped and centre-cropped in one resampling (:func:`rotate_and_crop`).
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["COMPACT_CHANNELS", "ROTATION_MARGIN", "CompactCNN", "rotate_and_crop"]

#: output channels of the five convolution blocks (about 244k convolution parameters)
COMPACT_CHANNELS = (16, 32, 64, 128, 128)
#: side of the stored training images relative to the crop: a square of side s rotated by any
#: angle stays inside the centred square of side s * sqrt(2)
ROTATION_MARGIN = math.sqrt(2.0)


class CompactCNN(nn.Module):
    """Images ``(B, C, H, W)`` -> features ``(B, channels[-1])``.

    Each block is Conv 3 x 3 (no bias) -> BatchNorm -> ReLU -> MaxPool 2 x 2; global average
    pooling follows the last block. ``num_features`` is the feature length.

    Examples
    --------
    >>> network = CompactCNN()
    >>> network(torch.zeros(2, 3, 96, 96)).shape
    torch.Size([2, 128])
    >>> sum(p.numel() for p in network.parameters())
    245392
    """

    def __init__(self, in_channels: int = 3, channels: tuple[int, ...] = COMPACT_CHANNELS) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        previous = in_channels
        for width in channels:
            layers += [
                nn.Conv2d(previous, width, 3, padding=1, bias=False),
                nn.BatchNorm2d(width),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2),
            ]
            previous = width
        self.blocks = nn.Sequential(*layers)
        self.num_features = previous

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.blocks(images).mean(dim=(2, 3))


def rotate_and_crop(
    images: torch.Tensor, output_px: int, generator: torch.Generator
) -> torch.Tensor:
    """Return each image rotated by a random angle, flipped at random, centre-cropped.

    ``images`` ``(B, C, S, S)`` are squares holding the crop with a margin; the output
    ``(B, C, output_px, output_px)`` covers the central ``S / ROTATION_MARGIN`` of each, so
    for angles of any size no pixel comes from outside the stored square. Bilinear resampling.

    Examples
    --------
    >>> images = torch.zeros(2, 1, 34, 34); images[:, :, 15:19, 15:19] = 1
    >>> out = rotate_and_crop(images, 24, torch.Generator().manual_seed(0))
    >>> out.shape, bool(out[:, :, 11:13, 11:13].min() > 0.5), float(out[:, :, :4].max())
    (torch.Size([2, 1, 24, 24]), True, 0.0)
    """
    count = images.shape[0]
    angles = torch.rand(count, generator=generator) * (2 * math.pi)
    flips = torch.randint(0, 2, (count,), generator=generator).to(images.dtype) * 2 - 1
    scale = 1.0 / ROTATION_MARGIN
    cos, sin = torch.cos(angles) * scale, torch.sin(angles) * scale
    # affine_grid maps output coordinates in [-1, 1] to input coordinates: rotate, then
    # mirror the x axis of half the images, shrinking to the central 1 / margin
    theta = torch.stack(
        [
            torch.stack([cos * flips, -sin, torch.zeros_like(cos)], dim=1),
            torch.stack([sin * flips, cos, torch.zeros_like(cos)], dim=1),
        ],
        dim=1,
    )
    grid = nn.functional.affine_grid(
        theta, [count, images.shape[1], output_px, output_px], align_corners=False
    )
    return nn.functional.grid_sample(images, grid, mode="bilinear", align_corners=False)
