"""Grafit (thesis chapter 2): the losses and rankings against the thesis' equations
written out directly, the two-level datasets, the thesis' model sizes, a 2-process run
against a single-process one, and learning fine classes from coarse labels."""
import json
import math
import os
import pickle
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F

import mmvision_ext  # noqa: F401
from conftest import ROOT, run_tool
from mmvision_ext.analysis import count_params
from mmvision_ext.apis import init_model
from mmvision_ext.datasets import CIFAR100TwoLevel, make_cifar100_two_level
from mmvision_ext.models.grafit import (EmbeddingMemory, average_precision,
                                        coarse_conditioned_scores, instance_loss, knn_class_probs,
                                        knn_loss, oracle_scores)
from thesis_figures import GRAFIT_PARAMS, GRAFIT_RECIPE, GRAFIT_TRANSFER


def _cos(a, b):
    return float(torch.dot(a, b) / (a.norm() * b.norm()))


# --- the losses, term by term -----------------------------------------------------------
def test_instance_loss_is_equation_2_1():
    torch.manual_seed(0)
    T, B, D = 3, 4, 5
    online, target = [torch.randn(B, D) for _ in range(T)], [torch.randn(B, D) for _ in range(T)]
    by_hand = sum(-sum(_cos(online[i][b], target[j][b])
                       for i in range(T) for j in range(T) if i != j) / (T * (T - 1))
                  for b in range(B)) / B
    assert instance_loss(online, target).item() == pytest.approx(by_hand, abs=1e-6)


def test_knn_loss_is_equations_2_2_and_2_3_with_j_not_i():
    torch.manual_seed(0)
    N, D, sigma = 7, 4, 0.5
    memory = torch.randn(N, D)
    memory_labels = torch.tensor([0, 1, 0, 2, 1, -1, 0])  # entry 5 never written
    indices = torch.tensor([0, 3, 5])  # image 3 is the only one of class 2
    labels = memory_labels[indices].clone()
    labels[2] = 1
    emb = F.normalize(torch.randn(3, D), dim=-1)
    total = 0.0
    for b, i in enumerate(indices.tolist()):
        js = [j for j in range(N) if j != i and memory_labels[j] >= 0]
        w = {j: math.exp(_cos(emb[b], memory[j]) / sigma) for j in js}
        positive = sum(w[j] for j in js if memory_labels[j] == labels[b])
        if positive:  # image 3 has no other image of its class: no term
            total += -math.log(positive / sum(w.values()))
    assert knn_loss(emb, labels, indices, memory, memory_labels, sigma).item() == \
        pytest.approx(total / 3, rel=1e-5)
    # Its own entry is left out: with i's entry as its only positive the term vanishes.
    alone = torch.tensor([5, 6, 7, 8, 9, 10, 11])
    assert knn_loss(emb[:1], torch.tensor([5]), torch.tensor([0]), memory,
                    torch.where(torch.arange(N) == 0, 5, alone), sigma).item() == 0.0


def test_memory_update_averages_and_writes_first_embeddings_as_they_are():
    memory = EmbeddingMemory(4, 2)
    first = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    memory.update(torch.tensor([1, 3]), first, torch.tensor([0, 1]))
    assert torch.equal(memory.bank[[1, 3]], first) and memory.labels.tolist() == [-1, 0, -1, 1]
    memory.update(torch.tensor([3]), torch.tensor([[1.0, 0.0]]), torch.tensor([1]))
    assert memory.bank[3].tolist() == [0.5, 0.5]  # m_i <- (m_i + g(x_i)) / 2
    assert memory.bank[0].tolist() == [0.0, 0.0] and memory.bank[1].tolist() == [1.0, 0.0]


def test_knn_classifier_is_equation_2_6():
    sims = torch.tensor([[0.9, 0.8, 0.7, 0.1]])
    labels = torch.tensor([1, 0, 1, 0])
    sigma = 0.1
    probs = knn_class_probs(sims, labels, num_classes=3, k=3, sigma=sigma)
    w = [math.exp(s / sigma) for s in (0.9, 0.8, 0.7)]  # the 3 nearest
    assert probs[0].tolist() == pytest.approx([w[1] / sum(w), (w[0] + w[2]) / sum(w), 0.0])


def test_average_precision_of_known_rankings():
    relevant = torch.tensor([[True, False, True, False], [False, False, False, True],
                             [False, False, False, False]])
    scores = torch.tensor([[4.0, 3, 2, 1]] * 3)
    ap = average_precision(scores, relevant)
    assert ap[0].item() == pytest.approx((1 / 1 + 2 / 3) / 2)
    assert ap[1].item() == pytest.approx(1 / 4)
    assert math.isnan(ap[2].item())  # nothing to find
    # The ranking is by score, not by position.
    assert average_precision(torch.tensor([[1.0, 4, 3, 2]]), relevant[1:2]).item() == \
        pytest.approx(1 / 3)


def test_coarse_conditioned_and_oracle_rankings():
    sims = torch.tensor([[0.9, 0.5, 0.4, -0.2]])
    memory_coarse = torch.tensor([0, 1, 1, 0])
    p = torch.tensor([[0.2, 0.8]])
    psi = coarse_conditioned_scores(sims, p, memory_coarse)
    logit = lambda q: math.log(q / (1 - q))  # noqa: E731
    assert psi[0].tolist() == pytest.approx([0.9 + logit(0.2), 0.5 + logit(0.8),
                                             0.4 + logit(0.8), -0.2 + logit(0.2)], abs=1e-5)
    # ψ_cond puts the likely coarse class first; the oracle the true one, by cosine within.
    assert psi.argsort(descending=True)[0].tolist() == [1, 2, 0, 3]
    oracle = oracle_scores(sims, torch.tensor([0]), memory_coarse)
    assert oracle.argsort(descending=True)[0].tolist() == [0, 3, 1, 2]


# --- data ------------------------------------------------------------------------------------
@pytest.fixture(scope='session')
def two_level_root(tmp_path_factory):
    return make_cifar100_two_level(tmp_path_factory.mktemp('two_level'), 2000, 500, seed=0)


def test_cifar100_two_level_reads_both_granularities(two_level_root):
    train = CIFAR100TwoLevel(two_level_root, split='train', label_level='coarse',
                             lazy_init=False)
    test = CIFAR100TwoLevel(two_level_root, split='test', label_level='fine')
    assert len(train) == 2000 and len(test) == 500
    sample = train.get_data_info(7)
    assert sample['img'].shape == (32, 32, 3) and sample['img'].dtype.name == 'uint8'
    assert sample['gt_label'] == sample['coarse_label'] == sample['fine_label'] // 4
    assert test.get_data_info(7)['gt_label'] == test.get_data_info(7)['fine_label']
    assert len(train.metainfo['classes']) == 5 and len(test.metainfo['classes']) == 20


def test_cifar_files_cannot_run_code(tmp_path):
    class Payload:
        def __reduce__(self):
            return (os.system, (f'touch {tmp_path}/ran',))
    folder = tmp_path / 'cifar-100-python'
    folder.mkdir()
    (folder / 'meta').write_bytes(pickle.dumps({'fine_label_names': [Payload()],
                                                'coarse_label_names': []}))
    (folder / 'train').write_bytes(b'')
    with pytest.raises(pickle.UnpicklingError, match='posix.system is not allowed'):
        CIFAR100TwoLevel(str(tmp_path))
    assert not (tmp_path / 'ran').exists()


def test_inaturalist_levels_and_imagenet_coarse_map(tmp_path):
    from mmvision_ext.datasets import ImageNetTwoLevel, INaturalistTwoLevel
    taxa = [dict(id=i, name=f'species{i}', genus=f'genus{i // 2}', family='f', order='o',
                 **{'class': 'c'}, phylum='p', kingdom='k') for i in range(4)]
    (tmp_path / 'categories.json').write_text(json.dumps(taxa))
    (tmp_path / 'train.json').write_text(json.dumps(dict(
        images=[dict(id=10 + i, file_name=f'img/{i}.jpg') for i in range(4)],
        annotations=[dict(image_id=10 + i, category_id=3 - i) for i in range(4)])))
    inat = INaturalistTwoLevel(str(tmp_path), 'train.json', 'categories.json',
                               coarse_level='genus', fine_level='name')
    assert [(d['coarse_label'], d['fine_label'], d['gt_label']) for d in inat.load_data_list()] \
        == [(1, 3, 1), (1, 2, 1), (0, 1, 0), (0, 0, 0)]
    with pytest.raises(Exception, match='coarser than'):
        INaturalistTwoLevel(str(tmp_path), 'train.json', 'categories.json',
                            coarse_level='name', fine_level='genus')
    for split in ('train',):
        for k in range(3):
            (tmp_path / 'in' / split / f'n{k}').mkdir(parents=True)
            (tmp_path / 'in' / split / f'n{k}' / 'a.JPEG').write_bytes(b'')
    (tmp_path / 'map.txt').write_text('0\n1\n1\n')
    imagenet = ImageNetTwoLevel(coarse_map=str(tmp_path / 'map.txt'), data_root=str(tmp_path / 'in'),
                                split='train', classes=['n0', 'n1', 'n2'])
    assert [(d['gt_label'], d['fine_label']) for d in imagenet.load_data_list()] == \
        [(0, 0), (1, 1), (1, 2)]


def test_missing_cifar_says_what_to_download(tmp_path):
    with pytest.raises(FileNotFoundError, match='cifar-100-python.tar.gz'):
        CIFAR100TwoLevel(str(tmp_path))


# --- the thesis' models -------------------------------------------------------------------
@pytest.mark.parametrize('name', sorted(GRAFIT_PARAMS))
def test_test_time_parameters_match_table_2_7(name):
    """At test time Grafit keeps the trunk and the projector (section 2.3.1)."""
    model = init_model(ROOT / f'configs/{name}.py')  # mmpretrain's ResNet needs real tensors
    kept = count_params(model.backbone) + (count_params(model.projector)
                                           if model.projector is not None else 0)
    assert kept / 1e6 == pytest.approx(GRAFIT_PARAMS[name], abs=0.05)


def test_recipes_follow_the_thesis():
    """Sections 2.4.3 / 2.5.1 (σ, T, epochs, batch, lr = 0.1 / 256 x batch) and 2.5.4
    (transfer: 240 epochs, cosine from 0.01, batch 512), value by value."""
    from mmengine.config import Config
    r = GRAFIT_RECIPE
    for name, views in (('grafit_resnet50_cifar100', r['views_cifar']),
                        ('grafit_resnet50_in1k_coarse127', r['views_imagenet'])):
        cfg = Config.fromfile(ROOT / f'configs/{name}.py')
        assert cfg.model.sigma == r['sigma'] and dict(cfg.model.loss_weights) == dict(knn=1, inst=1)
        assert cfg.train_dataloader.dataset.pipeline[0].num_views == views, name
        assert cfg.train_cfg.max_epochs == r['epochs']
        assert cfg.auto_scale_lr.base_batch_size == r['batch']
        assert cfg.optim_wrapper.optimizer.lr == pytest.approx(r['lr'])
        assert cfg.optim_wrapper.optimizer.type == 'SGD' and cfg.optim_wrapper.optimizer.nesterov
        assert cfg.param_scheduler[-1].type == 'CosineAnnealingLR'
    t = GRAFIT_TRANSFER
    for name in t['top1']:
        cfg = Config.fromfile(ROOT / f'configs/grafit_transfer_resnet50_{name}.py')
        assert cfg.train_cfg.max_epochs == t['epochs'] and cfg.optim_wrapper.optimizer.lr == t['lr']
        assert cfg.auto_scale_lr.base_batch_size == t['batch']
        assert cfg.model.backbone.init_cfg.prefix == 'backbone.'  # the trunk, not P
        assert f"{t['top1'][name]}" in (ROOT / f'configs/grafit_transfer_resnet50_{name}.py').read_text()


# --- distributed -------------------------------------------------------------------------------
def test_two_processes_keep_the_memory_and_losses_of_one(tmp_path):
    """Three steps of a tiny Grafit on fixed batches of 8: in one process, and in two
    gloo processes of 4 images each (DDP). The memory (gathered from both ranks), the
    mean of the ranks' losses and the weights are the single process' ones."""
    worker = ROOT / 'tests' / 'grafit_ddp_worker.py'
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    single = subprocess.run([sys.executable, worker, tmp_path / 'single.pt'], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=300)
    assert single.returncode == 0, single.stderr[-3000:]
    dist = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2',
                           '--master_port=29561', worker, tmp_path / 'dist.pt'], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300)
    assert dist.returncode == 0, dist.stderr[-3000:]
    one, two = (torch.load(tmp_path / f, weights_only=True) for f in ('single.pt', 'dist.pt'))
    assert (one['memory_labels'] >= 0).sum() == 24  # three batches of 8 written
    assert torch.equal(one['memory_labels'], two['memory_labels'])
    assert torch.allclose(one['memory'], two['memory'], atol=1e-5)
    assert torch.allclose(one['losses'], two['losses'], atol=1e-5)
    for key in one['params']:
        assert torch.allclose(one['params'][key], two['params'][key], atol=1e-5), key


# --- learning -------------------------------------------------------------------------------
def _train_and_test(config, root, work):
    data = [f'{loader}.dataset.data_root={root}'
            for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')]
    # Data loads in the main process: make test's other worker has the other core (the
    # same batches, by per-sample seeding).
    run_tool('tools/train.py', config, '--work-dir', work, '--cfg-options', *data,
             'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
             timeout=1200)
    last = sorted(work.glob('epoch_*.pth'), key=lambda p: int(p.stem.split('_')[1]))[-1]
    run_tool('tools/test.py', config, last, '--work-dir', work / 'test', '--cfg-options', *data)
    log = sorted((work / 'test').glob('*/*.json'))[-1]
    return json.loads(log.read_text().strip().splitlines()[-1]), last, data


def test_memory_of_another_size_than_the_training_set_is_named(two_level_root, tmp_path):
    data = [f'{loader}.dataset.data_root={two_level_root}'
            for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')]
    proc = run_tool('tools/train.py', 'configs/grafit_demo_synthetic.py', '--work-dir',
                    tmp_path / 'w', '--cfg-options', *data, 'model.num_train=64', check=False)
    assert proc.returncode != 0 and 'Traceback' not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        'error: the training set has 2000 images, the memory of Grafit 64 (model.num_train): '
        'set --cfg-options model.num_train=2000')
    assert not (tmp_path / 'w').exists()


@pytest.mark.long(200)
def test_grafit_ranks_fine_classes_better_than_coarse_cross_entropy(two_level_root,
                                                                   tmp_path):
    """The synthetic set: 5 shapes (coarse), each in 4 patterns (20 fine classes). Trained
    30 epochs on the shapes only, Grafit (the demo config) and coarse cross-entropy (its
    baseline: the same trunk, data and schedule) are evaluated on the 20 fine classes of
    held-out images. Chance: 5 % fine kNN top-1, about 5 % mAP (100 relevant images among
    2000), 20 % coarse kNN. Measured in six runs (seeds 0 to 5): Grafit's mAP 3.3 to 5.5
    points above cross-entropy's (mean 4.1, standard deviation 0.8), its fine kNN top-1
    (k = 20) 1.6 to 10.0 points above (mean 4.0, median 3.2); seed 0: 52.8 % and 37.6
    against 49.0 % and 32.1. Without the instance loss Grafit scores 48.0 % and 29.4
    (seed 0) and fails both comparisons."""
    grafit, ckpt, data = _train_and_test('configs/grafit_demo_synthetic.py', two_level_root,
                                         tmp_path / 'grafit')
    ce, _, _ = _train_and_test('configs/grafit_baseline_ce_demo_synthetic.py', two_level_root,
                               tmp_path / 'ce')
    key = 'coarse_to_fine/{}'.format
    print('grafit', grafit, '\ncross-entropy', ce)
    assert grafit[key('knn_top1')] > 40 and grafit[key('knn_coarse_top1')] > 80
    # mAP: about 2.6 standard deviations below the mean gap; kNN: ahead, as in the six
    # one-thread runs (with two threads, seed 0 fell 2 points behind: docs/grafit.md).
    assert grafit[key('mAP')] > ce[key('mAP')] + 2
    assert grafit[key('knn_top1')] > ce[key('knn_top1')]
    # Conditioning on the coarse prediction helps; knowing the coarse class helps more.
    assert grafit[key('mAP')] < grafit[key('mAP_cond')] < grafit[key('mAP_oracle')]
    # Table 2.1's experiment on the trained trunk: random halves of each shape (chance
    # 10 %) are linearly separable well above chance.
    out = tmp_path / 'separability.json'
    run_tool('tools/analysis/separability.py', 'configs/grafit_demo_synthetic.py', ckpt,
             '--splits', '2', '--out', out, '--cfg-options', *data)
    result = json.loads(out.read_text())
    print(result)
    assert result['no_cond']['mean'] > 25 and result['coarse_cond']['mean'] > 25
