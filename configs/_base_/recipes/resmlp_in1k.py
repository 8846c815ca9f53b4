# ResMLP's recipe (thesis section 4.3.1): DeiT's augmentation and regularisation,
# LAMB lr 5e-3 (batch 1024), weight decay 0.2, 400 epochs; crop ratio 0.875.
_base_ = ['./deit_in1k.py']

max_epochs = 400
optim_wrapper = dict(
    optimizer=dict(_delete_=True, type='TimmLamb', lr=5e-3, weight_decay=0.2))
train_cfg = dict(max_epochs=max_epochs)
