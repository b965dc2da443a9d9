"""The learned head study (MobileFaceNets, Chen et al. 2018, Sec. 3.1): do GDConv and FC heads, which learn
one weight per FMap-end position, beat global average pooling on faces, and what do they learn?

Modules: ``config`` (HeadsConfig), ``metrics`` (numpy: AUC, k-fold accuracy, TAR@FAR, map ratios, paired
differences), ``records`` (result dataclasses), ``storage`` (resumable output folder), ``train`` and
``probe`` (torch: training, evaluation, learned maps, feature energy), ``study`` (the driver), ``table``
(plain-text summary). Importing this package does not import torch.
"""

from archlab.studies.heads.config import HEADS, HeadsConfig
from archlab.studies.heads.records import HeadsStudy, RunRecord
from archlab.studies.heads.study import load_run_state_dict, read_heads_study, run_heads_study
from archlab.studies.heads.table import format_study

__all__ = [
    "HEADS",
    "HeadsConfig",
    "HeadsStudy",
    "RunRecord",
    "format_study",
    "load_run_state_dict",
    "read_heads_study",
    "run_heads_study",
]
