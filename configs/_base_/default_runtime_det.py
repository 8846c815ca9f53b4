# Runtime of the detection configs (mmdet scope).
_base_ = ['mmdet::_base_/default_runtime.py']
custom_imports = dict(imports=['mmvision_ext'], allow_failed_imports=False)
# mmengine's Runner with exact resume, crash-safe checkpoints and a NaN/Inf loss guard.
runner_type = 'ResumableRunner'
tta_model = dict(
    type='InstanceSegTTAModel',
    tta_cfg=dict(nms=dict(type='nms', iou_threshold=0.5), max_per_img=100))
