# UperNet for backbones tied to 224x224 inputs (ResMLP): 224 training crops and
# sliding 224 windows at test time.
_base_ = ['./upernet_isotropic.py']
model = dict(
    data_preprocessor=dict(size=(224, 224)),
    test_cfg=dict(mode='slide', crop_size=(224, 224), stride=(149, 149)))
