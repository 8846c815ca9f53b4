# Grafit, ResNet-50, iNaturalist 2018: trained on the 4,401 genera, evaluated on the 8,142
# species (thesis Tables 2.5 / 2.6: kNN top-1 61.9, mAP 55.4). Any pair of the seven
# taxonomy levels: set coarse_level / fine_level (kingdom, phylum, class, order, family,
# genus, name). Data in data/inat2018/: train2018.json, val2018.json, categories.json and
# the image folders they name.
_base_ = ['./grafit_resnet50_in1k_coarse127.py']
data_root = 'data/inat2018'
dataset = dict(type='INaturalistTwoLevel', data_root=data_root,
               categories_file='categories.json', coarse_level='genus', fine_level='name',
               label_level='coarse')
train_dataloader = dict(dataset=dict(_delete_=True, ann_file='train2018.json', **dataset,
                                     pipeline={{_base_.train_dataloader.dataset.pipeline}}))
val_dataloader = dict(dataset=dict(_delete_=True, ann_file='val2018.json', **dataset,
                                   pipeline={{_base_.test_pipeline}}))
test_dataloader = val_dataloader
model = dict(num_train=437513, num_coarse=4401, num_fine=8142)
