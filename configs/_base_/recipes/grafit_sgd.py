# Grafit's training procedure (thesis 2.4.3 / 2.5.1), from the bag of tricks of He et
# al.: SGD with Nesterov momentum, lr = 0.1 / 256 x batch (0.4 at batch 1024),
# cosine decay, 600 epochs at batch 1024. The thesis does not state the weight decay
# nor a warm-up: 1e-4 and 5 linear warm-up epochs are the bag of tricks' values.
# `--auto-scale-lr` rescales the lr for another total batch size.
max_epochs = 600
warmup_epochs = 5
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.4, momentum=0.9, nesterov=True, weight_decay=1e-4),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0),
)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=0.0, by_epoch=True, begin=warmup_epochs,
         convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=20)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=1024)
