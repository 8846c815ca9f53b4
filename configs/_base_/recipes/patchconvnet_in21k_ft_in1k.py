# PatchConvNet's ImageNet-21k -> ImageNet-1k fine-tuning (thesis section 5.2.3,
# "Fine-tuning from ImageNet21k to ImageNet1k"): 100 epochs, LAMB lr 5e-4 at batch 1024,
# half-cosine; the ImageNet-1k recipe otherwise (its augmentation, weight decay and
# repeated augmentation: the thesis names no change). The configs lower the drop path
# of the pre-training by 0.1 (section 5.3). The backbone starts from the 21k
# pre-training (cls_patchconvnet_<arch>_in21k.py), the 1000-class head from scratch.
_base_ = ['./patchconvnet_in1k.py']

train_dataloader = dict(batch_size=128)  # 8 GPUs x 128
max_epochs = 100
optim_wrapper = dict(optimizer=dict(lr=5e-4))
train_cfg = dict(max_epochs=max_epochs)
auto_scale_lr = dict(base_batch_size=1024)
