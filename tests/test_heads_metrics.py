"""Verification metrics and map ratios against values worked out by hand (archlab.studies.heads.metrics)."""

import math

import numpy as np
import pytest

from archlab.studies.heads import metrics as M


def test_roc_auc_counts_genuine_over_impostor_pairs():
    # genuine {0.9, 0.7}, impostors {0.8, 0.6, 0.5}: 0.9 beats 3, 0.7 beats 2 -> 5 of 6
    assert M.roc_auc([0.9, 0.8, 0.7, 0.6, 0.5], [True, False, True, False, False]) == pytest.approx(5 / 6)


def test_roc_auc_counts_ties_as_half():
    # genuine {0.5, 0.5}, impostors {0.5, 0.3}: each genuine ties one (0.5) and beats one (1) -> 3 of 4
    assert M.roc_auc([0.5, 0.5, 0.3, 0.5], [True, False, False, True]) == pytest.approx(0.75)
    assert M.roc_auc([0.2] * 5, [True, False, True, False, False]) == pytest.approx(0.5)


def test_roc_auc_perfect_and_reversed():
    assert M.roc_auc([3, 2, 1], [True, False, False]) == 1.0
    assert M.roc_auc([1, 2, 3], [True, False, False]) == 0.0
    with pytest.raises(ValueError):
        M.roc_auc([1, 2], [True, True])


IMPOSTORS = [0.9, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0, -0.1, -0.2, -0.3]
GENUINE = [0.95, 0.6, 0.5, 0.2]


@pytest.mark.parametrize(
    "far, tar, threshold",
    [
        (0.1, 0.5, 0.5),  # k = 1: accept > 0.5 (the 2nd highest impostor): 0.95, 0.6
        (0.2, 0.75, 0.4),  # k = 2: accept > 0.4: 0.95, 0.6, 0.5
        (0.05, 0.25, 0.9),  # k = 0: accept > the highest impostor
        (1.0, 1.0, -math.inf),
    ],
)
def test_tar_at_far_by_hand(far, tar, threshold):
    scores = IMPOSTORS + GENUINE
    same = [False] * len(IMPOSTORS) + [True] * len(GENUINE)
    assert M.tar_at_far(scores, same, far) == (pytest.approx(tar), pytest.approx(threshold))


def test_tar_at_far_keeps_the_far_bound_with_tied_impostors():
    # impostors 0.5, 0.5, 0.1, 0.0; FAR 0.25 -> k = 1 -> threshold 0.5, no impostor scores > 0.5
    tar, t = M.tar_at_far([0.5, 0.5, 0.1, 0.0, 0.6, 0.5], [False] * 4 + [True] * 2, 0.25)
    assert (tar, t) == (0.5, 0.5)


def test_best_threshold_by_hand():
    # sorted: 0.1 F, 0.35 T, 0.4 F, 0.8 T; correct per cut k = 0..4: 2, 3, 2, 3, 2 -> first best k = 1
    assert M.best_threshold([0.1, 0.4, 0.35, 0.8], [False, False, True, True]) == (pytest.approx(0.225), 0.75)


def test_best_threshold_never_cuts_inside_a_tie():
    # sorted 0.2 F | 0.5 T, 0.5 F: cut k = 2 (between the tied 0.5s) is not allowed; k = 1 gives 2 of 3
    assert M.best_threshold([0.5, 0.5, 0.2], [True, False, False]) == (pytest.approx(0.35), pytest.approx(2 / 3))
    assert M.best_threshold([0.1, 0.2], [True, True]) == (-math.inf, 1.0)
    assert M.best_threshold([0.1, 0.2], [False, False]) == (math.inf, 1.0)


def test_kfold_accuracy_by_hand():
    # fold 0: 0.9 T, 0.25 F, 0.6 T, 0.4 F     fold 1: 0.7 T, 0.45 F, 0.3 T, 0.1 F
    # test fold 0: threshold from fold 1 = (0.1 + 0.3) / 2 = 0.2 -> 0.25 F and 0.4 F wrongly accepted: 2/4
    # test fold 1: threshold from fold 0 = (0.4 + 0.6) / 2 = 0.5 -> only 0.3 T wrong: 3/4
    scores = [0.9, 0.25, 0.6, 0.4, 0.7, 0.45, 0.3, 0.1]
    same = [True, False, True, False, True, False, True, False]
    out = M.kfold_accuracy(scores, same, fold_of=[0, 0, 0, 0, 1, 1, 1, 1])
    assert out["per_fold"] == [0.5, 0.75]
    assert out["thresholds"] == [pytest.approx(0.2), pytest.approx(0.5)]
    assert out["mean"] == pytest.approx(0.625)
    assert out["sd"] == pytest.approx(math.sqrt(2 * 0.125**2))


def test_stratified_folds_deal_each_class_evenly():
    same = np.array([True] * 20 + [False] * 30)
    folds = M.stratified_folds(same, 10, seed=3)
    for f in range(10):
        assert (same[folds == f].sum(), (~same[folds == f]).sum()) == (2, 3)
    assert np.array_equal(folds, M.stratified_folds(same, 10, seed=3))


def test_pairs_and_cosine_scores():
    i, j, same = M.all_pairs([0, 0, 1])
    assert list(zip(i, j, same)) == [(0, 1, True), (0, 2, False), (1, 2, False)]
    e = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    assert M.cosine_scores(e, i, j) == pytest.approx([0.0, 1 / math.sqrt(2), 1 / math.sqrt(2)])
    assert M.cosine_scores(e, i, j) == pytest.approx(M.cosine_scores(np.tile(e, (1500, 1)), i, j))


def test_balanced_pairs_keep_every_genuine_pair_and_as_many_impostors():
    labels = [0, 0, 1, 1, 2, 2]
    i, j, same = M.balanced_pairs(labels, seed=1)
    assert same.sum() == 3 and (~same).sum() == 3
    lab = np.array(labels)
    assert np.array_equal(lab[i] == lab[j], same) and (i < j).all()
    assert all(np.array_equal(a, b) for a, b in zip((i, j, same), M.balanced_pairs(labels, seed=1)))


def test_map_ratios_by_hand():
    g = [[1, 2, 1], [2, 4, 2], [1, 2, 1]]
    assert M.centre_corner_ratio(g) == 4.0
    assert M.inner_ring_ratio(g) == pytest.approx(4 / 1.5)  # ring: (4 * 1 + 4 * 2) / 8
    n = M.normalise_mean1(g)
    assert n.mean() == pytest.approx(1.0) and n[1, 1] == pytest.approx(4 * 9 / 16)
    # ratios do not depend on the scale
    assert M.centre_corner_ratio(n) == pytest.approx(4.0)
    even = np.ones((4, 4))
    even[1:3, 1:3] = 3
    assert M.centre_corner_ratio(even) == 3.0
    assert M.lowest_position([[5, 1], [0.5, 2]]) == (1, 0)


def test_map_summary_of_a_7x7_map():
    g = np.ones((7, 7))
    g[3, 3] = 3.0
    g[0, 0] = g[0, 6] = g[6, 0] = g[6, 6] = 0.5
    s = M.map_summary(g)
    assert s["centre_corner"] == pytest.approx(6.0)
    assert s["lowest"] == [0, 0]
    assert np.mean(s["map"]) == pytest.approx(1.0)
    # ring: 24 units, 4 of them 0.5 -> mean 22/24; inner: 25 units, one 3 -> mean 27/25
    assert s["inner_ring"] == pytest.approx((27 / 25) / (22 / 24))


def test_mean_sd_and_paired_difference():
    assert M.mean_sd([1, 2, 3]) == (2.0, 1.0)
    assert M.mean_sd([5]) == (5.0, None)
    d = M.paired_difference({0: 0.7, 1: 0.8, 2: 0.6, 9: 1.0}, {0: 0.6, 1: 0.85, 2: 0.5})
    assert d["seeds"] == [0, 1, 2] and d["diffs"] == pytest.approx([0.1, -0.05, 0.1])
    assert d["mean"] == pytest.approx(0.05) and d["sd"] == pytest.approx(math.sqrt(0.0075))
    assert (d["positive"], d["n"]) == (2, 3)
