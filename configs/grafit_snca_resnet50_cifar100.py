# SNCA+ (thesis 2.4.2): Wu et al.'s kNN loss alone with the MLP projector and this
# training procedure (Table 2.7: kNN 72.2, mAP 35.9 cosine / 41.4 ψ_cond; 32.9 M).
_base_ = ['./grafit_resnet50_cifar100.py']
model = dict(predictor=None, loss_weights=dict(_delete_=True, knn=1.0))
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='MultiView', num_views=1, transforms=[{{_base_.view_pipeline}}]),
    {{_base_.pack}}]))
