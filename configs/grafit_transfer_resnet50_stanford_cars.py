# Grafit's ImageNet ResNet-50 fine-tuned on Stanford Cars (thesis Table 2.9: 92.5 top-1
# with Grafit, 92.7 with Grafit FC; baseline 90.0). Data: data/stanfordcars/ in
# mmpretrain's StanfordCars layout.
_base_ = ['./_base_/recipes/grafit_transfer.py']
num_classes = 196
model = dict(head=dict(num_classes=num_classes))
data_preprocessor = dict(num_classes=num_classes)
dataset = dict(type='StanfordCars', data_root='data/stanfordcars')
train_dataloader = dict(dataset=dict(split='train', **dataset))
val_dataloader = dict(dataset=dict(split='test', **dataset))
test_dataloader = val_dataloader
