# Grafit's ImageNet ResNet-50 fine-tuned on Food-101 (thesis Table 2.9: 89.5 top-1 with
# Grafit, 88.7 with Grafit FC; baseline 88.9). Data: data/food101/ with images/ and
# meta/{train,test}.txt (mmpretrain's Food101 layout).
_base_ = ['./_base_/recipes/grafit_transfer.py']
num_classes = 101
model = dict(head=dict(num_classes=num_classes))
data_preprocessor = dict(num_classes=num_classes)
dataset = dict(type='Food101', data_root='data/food101')
train_dataloader = dict(dataset=dict(split='train', **dataset))
val_dataloader = dict(dataset=dict(split='test', **dataset))
test_dataloader = val_dataloader
