# Runtime of the segmentation configs (mmseg scope).
default_scope = 'mmseg'
custom_imports = dict(imports=['mmvision_ext'], allow_failed_imports=False)
# mmengine's Runner with exact resume, crash-safe checkpoints and a NaN/Inf loss guard.
runner_type = 'ResumableRunner'
env_cfg = dict(
    cudnn_benchmark=True,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='SegLocalVisualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(by_epoch=False)
log_level = 'INFO'
load_from = None
resume = False
tta_model = dict(type='SegTTAModel')
