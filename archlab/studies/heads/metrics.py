"""Verification metrics, position-map ratios and paired-seed statistics (numpy only, no torch).

Conventions (each pinned by a hand-computed test in tests/test_heads_metrics.py):

* a pair is *accepted* (called "same identity") when its score is **>= the threshold** for the k-fold
  accuracy and **> the threshold** for TAR@FAR (so the FAR bound holds even with tied impostor scores);
* ``roc_auc``: the exact Mann-Whitney probability P(genuine score > impostor score), ties counting 0.5;
* ``kfold_accuracy``: folds stratified (genuine and impostor pairs each split evenly, seeded); on each fold
  the threshold that maximises accuracy on the other folds (the lowest such threshold, placed half-way
  between two distinct scores) is applied to the held-out fold; mean and sd over folds;
* ``tar_at_far``: the threshold is the ``floor(far * n_impostors)``-th highest impostor score (0-based),
  so at most that many impostors score above it; TAR = share of genuine pairs scoring above it;
* standard deviations are sample sds (ddof 1); with fewer than two values they are ``None``.
"""

from __future__ import annotations

import math

import numpy as np

from archlab.static.erf_records import centre_corner_ratio, inner_ring_ratio  # noqa: F401  (one home: static)


# -- pairs and scores --------------------------------------------------------------------------------------
def all_pairs(labels) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every unordered pair (i < j) of a labelled set: (i, j, same) arrays."""
    labels = np.asarray(labels)
    i, j = np.triu_indices(len(labels), k=1)
    return i, j, labels[i] == labels[j]


def balanced_pairs(labels, seed: int = 0, impostors_per_genuine: float = 1.0):
    """All genuine pairs plus a seeded sample (without replacement) of impostor pairs: (i, j, same)."""
    i, j, same = all_pairs(labels)
    gen, imp = np.flatnonzero(same), np.flatnonzero(~same)
    k = min(len(imp), int(round(impostors_per_genuine * len(gen))))
    pick = np.sort(np.random.default_rng(seed).choice(imp, size=k, replace=False))
    keep = np.concatenate([gen, pick])
    return i[keep], j[keep], same[keep]


def cosine_scores(embeddings, i, j, chunk: int = 1 << 16) -> np.ndarray:
    """Cosine similarity of the embedding pairs (i[k], j[k]): from the full similarity matrix for up to 4096
    embeddings, else in chunks of pairs."""
    e = np.asarray(embeddings, dtype=np.float64)
    e = e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12)
    i, j = np.asarray(i), np.asarray(j)
    if len(e) <= 4096:
        return (e @ e.T)[i, j]
    return (
        np.concatenate(
            [np.einsum("kd,kd->k", e[i[s : s + chunk]], e[j[s : s + chunk]]) for s in range(0, len(i), chunk)]
        )
        if len(i)
        else np.zeros(0)
    )


# -- verification metrics -------------------------------------------------------------------------------------
def _split(scores, same):
    scores, same = np.asarray(scores, dtype=np.float64), np.asarray(same, dtype=bool)
    if scores.shape != same.shape or scores.ndim != 1:
        raise ValueError("scores and same must be 1-d arrays of equal length")
    return scores, same


def roc_auc(scores, same) -> float:
    """Area under the ROC curve, exactly (average ranks: tied genuine/impostor pairs count 0.5)."""
    scores, same = _split(scores, same)
    n_gen, n_imp = int(same.sum()), int((~same).sum())
    if n_gen == 0 or n_imp == 0:
        raise ValueError("roc_auc needs genuine and impostor pairs")
    uniq, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    first_rank = np.cumsum(counts) - counts + 1  # 1-based rank of each distinct value's first element
    avg_rank = first_rank + (counts - 1) / 2.0
    rank_sum = avg_rank[inverse][same].sum()
    return float((rank_sum - n_gen * (n_gen + 1) / 2.0) / (n_gen * n_imp))


def tar_at_far(scores, same, far: float) -> tuple[float, float]:
    """(TAR, threshold) at a false accept rate ``far``: accept when score > threshold."""
    scores, same = _split(scores, same)
    imp = np.sort(scores[~same])[::-1]
    k = int(math.floor(far * len(imp) + 1e-9))
    threshold = -math.inf if k >= len(imp) else float(imp[k])
    return float(np.mean(scores[same] > threshold)), threshold


def best_threshold(scores, same) -> tuple[float, float]:
    """(threshold, accuracy): the lowest accuracy-maximising threshold for "accept when score >= t"."""
    scores, same = _split(scores, same)
    order = np.argsort(scores, kind="stable")
    s, g = scores[order], same[order]
    n = len(s)
    # cut k: reject the k lowest scores, accept the rest; allowed only between distinct values
    imp_below = np.concatenate([[0], np.cumsum(~g)])
    gen_above = int(g.sum()) - np.concatenate([[0], np.cumsum(g)])
    correct = imp_below + gen_above
    allowed = np.ones(n + 1, dtype=bool)
    allowed[1:n] = s[1:] > s[:-1]
    correct = np.where(allowed, correct, -1)
    k = int(np.argmax(correct))
    if k == 0:
        threshold = -math.inf
    elif k == n:
        threshold = math.inf
    else:
        threshold = float((s[k - 1] + s[k]) / 2.0)
    return threshold, float(correct[k] / n)


def stratified_folds(same, folds: int = 10, seed: int = 0) -> np.ndarray:
    """A fold index per pair: genuine and impostor pairs each shuffled (seeded) and dealt evenly."""
    same = np.asarray(same, dtype=bool)
    fold_of = np.empty(len(same), dtype=np.int64)
    rng = np.random.default_rng(seed)
    for members in (np.flatnonzero(same), np.flatnonzero(~same)):
        for f, chunk in enumerate(np.array_split(rng.permutation(members), folds)):
            fold_of[chunk] = f
    return fold_of


def kfold_accuracy(scores, same, folds: int = 10, seed: int = 0, fold_of=None) -> dict:
    """Verification accuracy with the threshold chosen on the other folds: {mean, sd, per_fold, thresholds}."""
    scores, same = _split(scores, same)
    fold_of = stratified_folds(same, folds, seed) if fold_of is None else np.asarray(fold_of)
    accs, thresholds = [], []
    for f in np.unique(fold_of):
        test = fold_of == f
        t, _ = best_threshold(scores[~test], same[~test])
        accs.append(float(np.mean((scores[test] >= t) == same[test])))
        thresholds.append(t)
    mean, sd = mean_sd(accs)
    return {"mean": mean, "sd": sd, "per_fold": accs, "thresholds": thresholds}


# -- position maps --------------------------------------------------------------------------------------------
def normalise_mean1(grid) -> np.ndarray:
    """A map divided by its mean (so 1 = an average position)."""
    grid = np.asarray(grid, dtype=np.float64)
    mean = grid.mean()
    return grid / mean if mean != 0 else np.ones_like(grid)


def ring_and_inner_range(grid) -> dict:
    """The lowest and highest values of the ring and of the inner block of a (mean-1) map."""
    g = np.asarray(grid, dtype=np.float64)
    ring = np.ones(g.shape, dtype=bool)
    ring[1:-1, 1:-1] = False
    return {
        "ring": (float(g[ring].min()), float(g[ring].max())),
        "inner": (float(g[~ring].min()), float(g[~ring].max())),
    }


def lowest_position(grid) -> tuple[int, int]:
    """(row, column) of the smallest value."""
    g = np.asarray(grid)
    r, c = np.unravel_index(int(np.argmin(g)), g.shape)
    return int(r), int(c)


def map_summary(grid) -> dict:
    """The mean-1 map and its ratios, ready for JSON."""
    g = normalise_mean1(grid)
    ranges = ring_and_inner_range(g)
    return {
        "map": g.round(6).tolist(),
        "centre_corner": centre_corner_ratio(g),
        "inner_ring": inner_ring_ratio(g),
        "ring_range": list(ranges["ring"]),
        "inner_range": list(ranges["inner"]),
        "lowest": list(lowest_position(g)),
    }


# -- across seeds ---------------------------------------------------------------------------------------------
def mean_sd(values) -> tuple[float, float | None]:
    """Mean and sample sd (ddof 1); sd is None for fewer than two values."""
    v = np.asarray(list(values), dtype=np.float64)
    if len(v) == 0:
        raise ValueError("mean_sd of no values")
    return float(v.mean()), (float(v.std(ddof=1)) if len(v) > 1 else None)


def paired_difference(a: dict, b: dict) -> dict:
    """Per-seed differences a - b over the seeds both have: {seeds, diffs, mean, sd, positive, n}."""
    seeds = sorted(set(a) & set(b))
    if not seeds:
        raise ValueError("no seeds in common")
    diffs = [float(a[s] - b[s]) for s in seeds]
    mean, sd = mean_sd(diffs)
    return {
        "seeds": seeds,
        "diffs": diffs,
        "mean": mean,
        "sd": sd,
        "positive": sum(d > 0 for d in diffs),
        "n": len(diffs),
    }
