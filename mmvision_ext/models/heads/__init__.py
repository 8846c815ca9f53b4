from .cls_heads import (ClassAttentionClsHead, ClassMLPClsHead, DistilledClsHead,
                        TokenPoolClsHead)

__all__ = ['TokenPoolClsHead', 'DistilledClsHead', 'ClassAttentionClsHead', 'ClassMLPClsHead']
