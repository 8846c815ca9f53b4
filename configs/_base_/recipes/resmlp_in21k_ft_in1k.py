# ResMLP's ImageNet-21k -> ImageNet-1k fine-tuning. The thesis reports its result
# (Table 4.3: ResMLP-B24/8, 84.4 top-1) without its settings; these are PatchConvNet's
# (section 5.2.3, the thesis' nearest 21k -> 1k recipe on LAMB): 100 epochs, lr 5e-4
# at batch 1024, half-cosine, on ResMLP's ImageNet-1k recipe. The configs lower the
# pre-training's drop path by 0.1 (section 5.3). The backbone starts from the 21k
# pre-training (cls_resmlp_<arch>_in21k.py), the 1000-class head from scratch.
_base_ = ['./resmlp_in1k.py']

max_epochs = 100
optim_wrapper = dict(optimizer=dict(lr=5e-4))
train_cfg = dict(max_epochs=max_epochs)
