"""Coarse-to-fine evaluation of Grafit (thesis sections 2.3.2-2.3.3, 2.4.1): on-the-fly
kNN classification (top-1 against the fine labels, and against the coarse ones) and
category-level retrieval of the training set (mAP with fine labels as ground truth, for
the cosine, coarse-conditioned and oracle rankings; precision@k of the cosine ranking).

The per-query values come from ``Grafit.predict``, which holds the memory of training
embeddings; this metric averages them over the test set (and over ranks)."""
import math

from mmengine.evaluator import BaseMetric

from mmvision_ext.registry import METRICS


@METRICS.register_module()
class CoarseToFineMetric(BaseMetric):
    """kNN top-1 (fine and coarse) and retrieval mAP / precision@k, in percent.

    Reports ``knn_top1`` and ``knn_coarse_top1`` (eq. 2.6), ``mAP`` (cosine ranking),
    ``mAP_cond`` (ψ_cond, eq. 2.5), ``mAP_oracle`` (the query's coarse class given) and
    ``precision@k``. Queries whose fine class has no image in the training set count in
    the kNN accuracy but not in the retrieval figures (their AP is undefined).

    Args:
        collect_device (str): mmengine's: where the ranks' results are gathered.
        prefix (str): metric name prefix. Default: ``'coarse_to_fine'``.
    """
    default_prefix = 'coarse_to_fine'

    def process(self, data_batch, data_samples):
        for sample in data_samples:
            self.results.append(dict(
                knn=int(sample['knn_fine_label']) == int(sample['fine_label']),
                knn_coarse=int(sample['knn_coarse_label']) == int(sample['coarse_label']),
                retrieval=dict(sample['retrieval'])))

    def compute_metrics(self, results):
        if not results:
            raise ValueError('no image was evaluated')
        metrics = dict(knn_top1=100.0 * sum(r['knn'] for r in results) / len(results),
                       knn_coarse_top1=100.0 * sum(r['knn_coarse'] for r in results)
                       / len(results))
        scored = [r['retrieval'] for r in results if not math.isnan(r['retrieval']['ap'])]
        names = {'ap': 'mAP', 'ap_cond': 'mAP_cond', 'ap_oracle': 'mAP_oracle'}
        for key in results[0]['retrieval']:
            values = [s[key] for s in scored]
            metrics[names.get(key, key)] = 100.0 * sum(values) / max(len(values), 1)
        return metrics
