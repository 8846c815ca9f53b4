"""Grafit (thesis chapter 2): fine-grained image representations learnt from coarse labels.

A trunk ``f`` (any backbone: mmpretrain's ResNets as in the thesis, or one of this
project's) and a projector ``P`` give the embedding ``g(x) = P(f(x))``, trained with

- the kNN loss of Wu et al. (eq. 2.2-2.3) on the coarse labels, against a memory of
  the ℓ2-normalised embeddings of the whole training set, updated for the images of each
  batch as ``m_i <- (m_i + g(x_i)) / 2``;
- the instance loss (eq. 2.1): BYOL's, over ``T`` augmented views: a predictor ``q``
  on the online embedding matches the embedding of a *target* network (trunk +
  projector), an exponential moving average of the online one;

summed (eq. 2.4, ``loss_weights`` gives the λ of Table 2.11). The same class also runs
the thesis' baselines: coarse cross-entropy alone (``loss_weights=dict(ce=1.)``, no
projector: "Baseline (ours)"), the kNN loss alone (SNCA / SNCA+), CE + instance loss,
i.e. every row of Table 2.7, so that all are evaluated the same way.

Evaluation (``predict``): the query's embedding is compared by cosine with the memory,
which ``GrafitMemoryHook`` recomputes over the training set with the weights under test
before each evaluation (section 2.3.1). Per query it gives the on-the-fly kNN
classification of eq. 2.6 (fine and coarse), and the average precision of three
rankings of the training set against the fine labels: cosine, the coarse-conditioned
ψ_cond of eq. 2.5 and its oracle; ``CoarseToFineMetric`` averages them.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine import dist
from mmengine.model import BaseModel
from mmpretrain.models.utils import CosineEMA

from mmvision_ext.errors import ConfigError
from mmvision_ext.registry import MODELS

LOSSES = ('ce', 'knn', 'inst')
# Logits filling masked similarities: finite, so rows with nothing to compare with give
# zero loss and zero gradient instead of NaN.
_MASKED = -1e9


# --- the losses (eq. 2.1-2.3) ----------------------------------------------------------
def instance_loss(online, target):
    """Eq. 2.1: ``-sum_{i != j} cos(q(g_θ(t_i x)), g_ξ(t_j x)) / (T (T - 1))``, averaged
    over the batch.

    Args:
        online (list[Tensor]): the ``T`` views' predictions ``q(g_θ(t_i(x)))``, (B, D) each.
        target (list[Tensor]): the ``T`` views' target embeddings ``g_ξ(t_j(x))``.
    """
    num_views = len(online)
    if num_views < 2 or len(target) != num_views:
        raise ValueError(f'the instance loss needs T >= 2 views on both sides, got '
                         f'{num_views} and {len(target)}')
    p = F.normalize(torch.stack(online).float(), dim=-1)
    z = F.normalize(torch.stack(target).float(), dim=-1)
    cos = torch.einsum('ibd,jbd->ijb', p, z)
    off_diagonal = ~torch.eye(num_views, dtype=torch.bool, device=cos.device)
    return -(cos[off_diagonal].sum(0) / (num_views * (num_views - 1))).mean()


def knn_loss(embeddings, labels, indices, memory, memory_labels, sigma):
    """Eq. 2.2-2.3 against the memory: ``-log sum_{j != i, y_j = y_i} p_ij`` with
    ``p_ij ∝ exp(cos(g(x_i), m_j) / σ)`` normalised over ``j != i``, averaged over the
    batch. Entries never written (label -1) take no part; an image with no entry of its
    class yet contributes 0.

    Args:
        embeddings (Tensor): (B, D) ℓ2-normalised ``g_θ(x_i)``.
        labels (Tensor): (B,) their (coarse) labels.
        indices (Tensor): (B,) their indices ``i`` in the training set (rows of the memory).
        memory (Tensor): (N, D) embeddings ``m_j`` (normalised here for the cosine).
        memory_labels (Tensor): (N,) labels of the memory, -1 where not written yet.
        sigma (float): the temperature σ.
    """
    logits = embeddings.float() @ F.normalize(memory.float(), dim=-1).T / sigma
    rows = torch.arange(len(indices), device=logits.device)
    valid = (memory_labels >= 0).expand_as(logits).clone()
    valid[rows, indices] = False  # j != i
    logits = logits.masked_fill(~valid, _MASKED)
    log_p = logits - logits.logsumexp(1, keepdim=True)
    positive = valid & (memory_labels[None] == labels[:, None])
    log_positive = log_p.masked_fill(~positive, _MASKED).logsumexp(1)
    return -torch.where(positive.any(1), log_positive, 0.).mean()


def knn_class_probs(similarity, memory_labels, num_classes, k, sigma):
    """Eq. 2.6: ``p(x, y) ∝ sum over the k nearest entries of class y of exp(cos / σ)``,
    normalised over the classes. ``similarity`` is (B, N) cosines to the memory."""
    sims, nearest = similarity.topk(min(k, similarity.shape[1]), dim=1)
    weights = ((sims - sims[:, :1]) / sigma).exp()  # shifted: same ratios, no overflow
    probs = torch.zeros(len(similarity), num_classes, device=similarity.device)
    probs.scatter_add_(1, memory_labels[nearest], weights)
    return probs / probs.sum(1, keepdim=True)


def average_precision(scores, relevant):
    """AP of each row's ranking (by decreasing score, ties in index order) against a
    boolean relevance matrix; NaN for a row with nothing relevant."""
    order = scores.argsort(dim=1, descending=True, stable=True)
    hits = relevant.gather(1, order).float()
    ranks = torch.arange(1, hits.shape[1] + 1, device=hits.device)
    precision_at_hits = hits.cumsum(1) / ranks * hits
    return precision_at_hits.sum(1) / hits.sum(1)


def coarse_conditioned_scores(similarity, coarse_probs, memory_coarse, eps=1e-6):
    """ψ_cond of eq. 2.5: ``cos(g(x'), g(x)) + log(p_c(x', y) / (1 - p_c(x', y)))`` with
    ``y`` the coarse class of the collection image ``x``."""
    p = coarse_probs.clamp(eps, 1 - eps)
    return similarity + (p / (1 - p)).log()[:, memory_coarse]


def oracle_scores(similarity, query_coarse, memory_coarse):
    """The oracle ranking: ``p_c(x', y) = 1[y = y']``, i.e. the images of the query's
    coarse class first, each group by cosine (cosines lie in [-1, 1])."""
    return similarity + 3.0 * (memory_coarse[None] == query_coarse[:, None])


# --- the memory of embeddings ----------------------------------------------------------------
class EmbeddingMemory(nn.Module):
    """Embeddings of the whole training set and their labels, as buffers (so they are
    checkpointed and resumed with the model, and live on the model's device).

    In training ``update`` writes ``m_i <- (m_i + g(x_i)) / 2`` (an image's first
    embedding is written as is); ``rebuild`` writes ``m_i = g(x_i)`` with fine labels
    too. In distributed training every rank keeps the whole memory and writes the
    gathered batches of all ranks, so all copies stay equal.

    Args:
        size (int): number of training images.
        dim (int): embedding dimension.
        persistent (bool): whether checkpoints hold it. Default: True.
    """

    def __init__(self, size, dim, persistent=True):
        super().__init__()
        self.register_buffer('bank', torch.zeros(size, dim), persistent)
        self.register_buffer('labels', torch.full((size,), -1, dtype=torch.long), persistent)
        self.register_buffer('fine_labels', torch.full((size,), -1, dtype=torch.long),
                             persistent)

    @staticmethod
    def _gather(*tensors):
        if dist.get_world_size() == 1:
            return tensors
        return tuple(torch.cat(dist.all_gather(t.contiguous())) for t in tensors)

    def _check(self, indices):
        if len(indices) and (indices.min() < 0 or indices.max() >= len(self.bank)):
            raise ConfigError(f'image index {int(indices.max())} outside the memory of '
                              f'{len(self.bank)} embeddings: set the model\'s num_train to '
                              'the size of the training set')

    @torch.no_grad()
    def update(self, indices, embeddings, labels):
        indices, embeddings, labels = self._gather(indices, embeddings.to(self.bank), labels)
        self._check(indices)
        seen = (self.labels[indices] >= 0)[:, None]
        self.bank[indices] = torch.where(seen, (self.bank[indices] + embeddings) / 2, embeddings)
        self.labels[indices] = labels

    @torch.no_grad()
    def rebuild(self, indices, embeddings, labels, fine_labels):
        indices, embeddings, labels, fine_labels = self._gather(
            indices, embeddings.to(self.bank), labels, fine_labels)
        self._check(indices)
        self.bank[indices] = embeddings
        self.labels[indices] = labels
        self.fine_labels[indices] = fine_labels

    def extra_repr(self):
        return f'size={self.bank.shape[0]}, dim={self.bank.shape[1]}'


def _sample_field(data_samples, key, device):
    values = [s.get(key) if key != 'gt_label' else s.gt_label for s in data_samples]
    if any(v is None for v in values):
        raise ConfigError(f"the data samples carry no '{key}': Grafit needs a two-level "
                          "dataset (e.g. CIFAR100TwoLevel) and PackInputs(algorithm_keys="
                          "('coarse_label', 'fine_label'))")
    return torch.as_tensor([int(v) for v in values], device=device)


# --- the model ---------------------------------------------------------------------------
@MODELS.register_module()
class Grafit(BaseModel):
    """Grafit and the baselines of thesis Table 2.7, with kNN / retrieval evaluation.

    Args:
        backbone (dict): the trunk ``f``.
        num_train (int): training-set size, the rows of the memory of embeddings.
        num_coarse (int): number of coarse classes (the training labels).
        num_fine (int): number of fine classes (the evaluation labels).
        neck (dict, optional): pooling of the trunk's output to one vector per image,
            e.g. ``dict(type='GlobalAveragePooling')`` for feature maps.
        projector (dict, optional): ``P`` (mmpretrain's ``NonLinearNeck`` for Grafit,
            ``LinearNeck`` for Grafit FC / SNCA); None: ``g = f`` (the CE baseline).
        predictor (dict, optional): ``q`` of the instance loss (needed with ``inst``).
        coarse_head (dict, optional): a classification head on ``f`` trained with
            cross-entropy on the coarse labels (needed with ``ce``). When present its
            softmax is the ``p_c`` of ψ_cond; otherwise the kNN classifier of eq. 2.6
            on the coarse labels of the memory gives ``p_c``.
        loss_weights (dict): weight of each loss among ``ce``, ``knn``, ``inst``; the
            thesis sums ``knn`` and ``inst`` with weight 1 (section 2.5.1).
        sigma (float): temperature σ of eq. 2.2 and 2.6. Default: 0.05 (section 2.4.3).
        knn_k (int): neighbours of the kNN classifier (eq. 2.6); the thesis
            cross-validates it in {10, 15, 20, 25, 30}. Default: 20.
        target_momentum (float): ``1 - τ`` at the start of training; τ rises to 1 along
            a cosine, as in BYOL (mmpretrain's ``CosineEMA``). Default: 0.004.
        precision_at (tuple[int]): the ``k`` of precision@k reported for the cosine
            ranking. Default: (1, 10, 100).
        data_preprocessor (dict, optional): default mmpretrain's
            ``SelfSupDataPreprocessor`` (it takes the list of views of training).
        init_cfg (dict, optional): initialisation config.
    """

    def __init__(self, backbone, num_train, num_coarse, num_fine, neck=None, projector=None,
                 predictor=None, coarse_head=None, loss_weights=dict(knn=1.0, inst=1.0),
                 sigma=0.05, knn_k=20, target_momentum=0.004, precision_at=(1, 10, 100),
                 data_preprocessor=None, init_cfg=None):
        if data_preprocessor is None:
            data_preprocessor = dict(type='mmpretrain.SelfSupDataPreprocessor')
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        unknown = set(loss_weights) - set(LOSSES)
        if unknown or not loss_weights:
            raise ConfigError(f'Grafit: loss_weights keys must be among {LOSSES}, '
                              f'got {sorted(loss_weights)}')
        if 'inst' in loss_weights and predictor is None:
            raise ConfigError("Grafit: the instance loss ('inst') needs a predictor")
        if 'knn' in loss_weights and projector is None:
            raise ConfigError("Grafit: the kNN loss ('knn') works on a projection: set a "
                              'projector (LinearNeck for SNCA / Grafit FC)')
        if 'ce' in loss_weights and coarse_head is None:
            raise ConfigError("Grafit: the cross-entropy loss ('ce') needs a coarse_head")
        self.loss_weights = dict(loss_weights)
        self.backbone = MODELS.build(backbone)
        self.neck = MODELS.build(neck) if neck is not None else None
        self.projector = MODELS.build(projector) if projector is not None else None
        self.predictor = MODELS.build(predictor) if predictor is not None else None
        self.coarse_head = MODELS.build(coarse_head) if coarse_head is not None else None
        self.sigma, self.knn_k = sigma, knn_k
        self.num_coarse, self.num_fine = num_coarse, num_fine
        self.precision_at = tuple(precision_at)
        self.num_train = num_train
        self.memory = EmbeddingMemory(num_train, projector['out_channels']) \
            if projector is not None else None
        self.target = None
        if 'inst' in loss_weights:
            self.target = CosineEMA(self._online_network(), momentum=target_momentum)

    # --- the networks -------------------------------------------------------------------
    def _online_network(self):
        return nn.Sequential(*[m for m in (self.backbone, self.neck, self.projector)
                               if m is not None])

    def init_weights(self):
        super().init_weights()
        if self.target is not None:  # the target starts as the initialised online network
            self.target.module.load_state_dict(self._online_network().state_dict())

    def trunk(self, inputs):
        """``f(x)``: one feature vector per image."""
        out = self.backbone(inputs)
        if self.neck is not None:
            out = self.neck(out)
        feat = out[-1] if isinstance(out, (tuple, list)) else out
        if feat.dim() != 2:
            raise ConfigError(f'Grafit: the trunk gives {tuple(feat.shape)} features, not one '
                              "vector per image: add neck=dict(type='GlobalAveragePooling')")
        return feat

    def project(self, feat):
        """``g(x) = P(f(x))`` (``f(x)`` without a projector)."""
        return self.projector((feat,))[0] if self.projector is not None else feat

    def embed(self, inputs):
        """The ℓ2-normalised embedding ``g(x)`` used for kNN and retrieval."""
        return F.normalize(self.project(self.trunk(inputs)), dim=-1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.embed(inputs[0] if isinstance(inputs, list) else inputs)
        raise RuntimeError(f'Invalid mode "{mode}".')

    # --- training ---------------------------------------------------------------------------
    def loss(self, inputs, data_samples):
        views = inputs if isinstance(inputs, list) else [inputs]
        labels = _sample_field(data_samples, 'gt_label', views[0].device)
        feat = self.trunk(views[0])  # the supervised losses see one augmentation (2.5.1)
        g = self.project(feat)
        losses = {}
        w = self.loss_weights
        if 'ce' in w:
            losses['loss_ce'] = w['ce'] * self.coarse_head.loss((feat,), data_samples)['loss']
        if 'knn' in w:
            indices = _sample_field(data_samples, 'sample_idx', views[0].device)
            embeddings = F.normalize(g, dim=-1)
            losses['loss_knn'] = w['knn'] * knn_loss(
                embeddings, labels, indices, self.memory.bank, self.memory.labels, self.sigma)
            self.memory.update(indices, embeddings.detach(), labels)
        if 'inst' in w:
            if len(views) < 2:
                raise ConfigError('Grafit: the instance loss needs T >= 2 views per image: '
                                  "wrap the train pipeline in dict(type='MultiView', "
                                  'num_views=T, transforms=[...])')
            online = [self.predictor((g,))[0]] + [
                self.predictor((self.project(self.trunk(v)),))[0] for v in views[1:]]
            with torch.no_grad():
                self.target.update_parameters(self._online_network())
                target = [self._target_embedding(v) for v in views]
            losses['loss_inst'] = w['inst'] * instance_loss(online, target)
        return losses

    def _target_embedding(self, inputs):
        out = self.target(inputs)
        return out[-1] if isinstance(out, (tuple, list)) else out

    # --- evaluation -------------------------------------------------------------------------
    @torch.no_grad()
    def rebuild_memory(self, dataloader):
        """``m_i = g(x_i)`` for every image of ``dataloader`` (the training set with the
        test pipeline), fine labels included (section 2.3.1). Each rank embeds its share
        of the set and all ranks write all shares."""
        if self.memory is None:  # without a projector: a memory of trunk features, for
            # evaluation only (not checkpointed: the model it came from has none)
            self.memory = EmbeddingMemory(self.num_train, self._feature_dim(dataloader),
                                          persistent=False)
            self.memory.to(next(self.parameters()).device)
        was_training = self.training
        self.eval()
        self.memory.labels.fill_(-1)
        self.memory.fine_labels.fill_(-1)
        for batch in dataloader:
            data = self.data_preprocessor(batch, False)
            samples = data['data_samples']
            device = self.memory.bank.device
            self.memory.rebuild(_sample_field(samples, 'sample_idx', device),
                                self.embed(data['inputs']),
                                _sample_field(samples, 'coarse_label', device),
                                _sample_field(samples, 'fine_label', device))
        self.train(was_training)
        missing = int((self.memory.fine_labels < 0).sum())
        if missing:
            raise ConfigError(f'the memory dataloader covered {len(self.memory.bank) - missing} '
                              f'of the {len(self.memory.bank)} training images: it must be '
                              'the whole training set (num_train)')

    def _feature_dim(self, dataloader):
        batch = next(iter(dataloader))
        data = self.data_preprocessor(batch, False)
        was_training = self.training
        self.eval()
        dim = self.embed(data['inputs'][:1]).shape[1]
        self.train(was_training)
        return dim

    @torch.no_grad()
    def predict(self, inputs, data_samples):
        """Per query, against the whole memory (its cost grows as batch x training set:
        the ImageNet configs test with smaller batches)."""
        if self.memory is None or bool((self.memory.fine_labels < 0).any()):
            raise ConfigError('Grafit: the memory holds no fine labels: evaluate with '
                              "custom_hooks=[dict(type='GrafitMemoryHook', dataloader=...)] "
                              '(the training set with the test pipeline)')
        device = self.memory.bank.device
        query = self.embed(inputs)
        similarity = query @ F.normalize(self.memory.bank, dim=-1).T
        coarse, fine = self.memory.labels, self.memory.fine_labels
        fine_probs = knn_class_probs(similarity, fine, self.num_fine, self.knn_k, self.sigma)
        coarse_knn = knn_class_probs(similarity, coarse, self.num_coarse, self.knn_k, self.sigma)
        coarse_probs = coarse_knn if self.coarse_head is None else \
            self.coarse_head((self.trunk(inputs),)).softmax(-1)
        query_coarse = _sample_field(data_samples, 'coarse_label', device)
        query_fine = _sample_field(data_samples, 'fine_label', device)
        relevant = fine[None] == query_fine[:, None]
        ap = average_precision(similarity, relevant)
        ap_cond = average_precision(coarse_conditioned_scores(similarity, coarse_probs, coarse),
                                    relevant)
        ap_oracle = average_precision(oracle_scores(similarity, query_coarse, coarse), relevant)
        order = similarity.argsort(dim=1, descending=True, stable=True)
        ranked_hits = relevant.gather(1, order[:, :max(self.precision_at)]).float()
        for i, sample in enumerate(data_samples):
            sample.set_field(int(fine_probs[i].argmax()), 'knn_fine_label')
            sample.set_field(int(coarse_knn[i].argmax()), 'knn_coarse_label')
            sample.set_field(dict(ap=float(ap[i]), ap_cond=float(ap_cond[i]),
                                  ap_oracle=float(ap_oracle[i]),
                                  **{f'precision@{k}': float(ranked_hits[i, :k].mean())
                                     for k in self.precision_at}), 'retrieval')
        return data_samples
