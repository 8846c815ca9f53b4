# Grafit's ImageNet ResNet-50 fine-tuned on Oxford Flowers-102 (thesis Table 2.9: 98.2
# top-1 with Grafit, 97.6 with Grafit FC; baseline 96.2). Data: data/flowers102/ with
# jpg/, imagelabels.mat and setid.mat (mmpretrain's Flowers102 layout).
_base_ = ['./_base_/recipes/grafit_transfer.py']
dataset = dict(type='Flowers102', data_root='data/flowers102')
train_dataloader = dict(dataset=dict(split='trainval', **dataset))
val_dataloader = dict(dataset=dict(split='test', **dataset))
test_dataloader = val_dataloader
