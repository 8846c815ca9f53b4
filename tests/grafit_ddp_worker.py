"""Three training steps of a tiny Grafit on fixed batches of 8 images, in one process or
under torch.distributed.run (2 gloo processes, 4 images each, DDP); writes the memory,
the losses (mean over ranks) and the weights to the file named by argv[1].
Run by tests/test_grafit.py."""
import os
import sys

import torch
import torch.distributed as torch_dist
from mmengine.logging import MessageHub
from mmengine.model import MMDistributedDataParallel
from mmengine.registry import init_default_scope
from mmpretrain.structures import DataSample

import mmvision_ext  # noqa: F401
from mmvision_ext.registry import MODELS

STEPS, BATCH, NUM_TRAIN = 3, 8, 32


def build():
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    linear = dict(type='LinearNeck', norm_cfg=None)  # no batch statistics: ranks agree
    model = MODELS.build(dict(
        type='Grafit', num_train=NUM_TRAIN, num_coarse=2, num_fine=4,
        backbone=dict(type='DeiT3ViT', img_size=16, out_type='featmap',
                      arch=dict(patch_size=4, embed_dims=32, depth=2, num_heads=2,
                                layer_scale_init=1e-4)),
        neck=dict(type='GlobalAveragePooling'),
        projector=dict(linear, in_channels=32, out_channels=16),
        predictor=dict(linear, in_channels=16, out_channels=16),
        target_momentum=0.1, sigma=0.1))
    model.init_weights()
    return model


def batches():
    g = torch.Generator().manual_seed(1)
    order = torch.randperm(NUM_TRAIN, generator=g)
    for step in range(STEPS):
        idx = order[step * BATCH:(step + 1) * BATCH]
        views = [torch.randn(BATCH, 3, 16, 16, generator=g) for _ in range(2)]
        samples = [DataSample(metainfo=dict(sample_idx=int(i))).set_gt_label(int(i) % 2)
                   for i in idx]
        yield views, samples


def main(out):
    distributed = 'WORLD_SIZE' in os.environ
    rank, world = 0, 1
    if distributed:
        torch_dist.init_process_group('gloo')
        rank, world = torch_dist.get_rank(), torch_dist.get_world_size()
    MessageHub.get_current_instance().update_info('max_iters', STEPS)
    model = build()
    # As mmengine's runner wraps it: buffers (the memory) are not broadcast. The ViT's
    # final norm is unused by feature-map outputs.
    net = MMDistributedDataParallel(model, broadcast_buffers=False, find_unused_parameters=True) \
        if distributed else model
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    losses = []
    for views, samples in batches():
        share = slice(rank * BATCH // world, (rank + 1) * BATCH // world)
        loss_dict = net(inputs=[v[share] for v in views], data_samples=samples[share],
                        mode='loss')
        loss = sum(loss_dict.values())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        value = loss.detach().clone()
        if distributed:
            torch_dist.all_reduce(value)
            value /= world
        losses.append(value)
    if rank == 0:
        torch.save(dict(memory=model.memory.bank, memory_labels=model.memory.labels,
                        losses=torch.stack(losses),
                        params={k: v.detach() for k, v in model.state_dict().items()}), out)
    if distributed:
        torch_dist.destroy_process_group()


if __name__ == '__main__':
    main(sys.argv[1])
