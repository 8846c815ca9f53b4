from .cls_heads import ClassAttentionClsHead, DistilledClsHead, TokenPoolClsHead

__all__ = ['TokenPoolClsHead', 'DistilledClsHead', 'ClassAttentionClsHead']
