"""SID tokenizers: logic on small synthetic embeddings (unit tests; the real-data path is covered by
the integration test)."""
import numpy as np
import pytest

from scaling.cache import ArtifactCache
from scaling.config import TokenizerConfig
from scaling.errors import ConfigError
from scaling.tokenizers import fit_sids
from scaling.tokenizers.sids import collisions, dedup_digit, dedup_random, quality


def clustered(n=400, d=16, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(8, d)) * 3
    return (centers[rng.integers(0, 8, n)] + rng.normal(size=(n, d))).astype(np.float32)


@pytest.mark.parametrize("kind", ["rkmeans", "rvq", "rqvae"])
def test_quantizers_give_unique_valid_sids(kind, tmp_path):
    x = clustered()
    cfg = TokenizerConfig(kind=kind, levels=3, width=16, epochs=5)
    sids, hit = fit_sids(x, cfg, 0, ArtifactCache(tmp_path))
    assert not hit
    assert sids.codes.shape == (len(x), 4) and sids.widths[:3] == [16, 16, 16]
    assert (sids.codes >= 0).all() and (sids.codes < np.array(sids.widths)).all()
    assert len(np.unique(sids.codes, axis=0)) == len(x)                     # de-dup made them unique
    assert sids.n_params >= 3 * 16 * 16
    assert 0 <= sids.quality["collision_rate"] <= 1 and 0 < sids.quality["usage_l0"] <= 1
    again, hit = fit_sids(x, cfg, 0, ArtifactCache(tmp_path))
    assert hit and np.array_equal(again.codes, sids.codes)                  # cached, not recomputed


def test_rkmeans_reconstructs_better_with_more_levels(tmp_path):
    x = clustered()
    errs = [fit_sids(x, TokenizerConfig(levels=L, width=16), 0, ArtifactCache(tmp_path))[0].quality["recon_rel_mse"]
            for L in (1, 2, 3)]
    assert errs[0] > errs[1] > errs[2]


def test_dedup_digit_and_collisions():
    codes = np.array([[0, 1], [0, 1], [2, 3], [0, 1]])
    rank, size = collisions(codes)
    assert rank.tolist() == [0, 1, 0, 2] and size.tolist() == [3, 3, 1, 3]
    out, width = dedup_digit(codes)
    assert width == 3 and out[:, 2].tolist() == [0, 1, 0, 2]


def test_dedup_random_keeps_length_and_prefix():
    codes = np.array([[0, 1], [0, 1], [2, 3]])
    out = dedup_random(codes, width=4, seed=0)
    assert out.shape == codes.shape and len(np.unique(out, axis=0)) == 3
    assert (out[:, 0] == codes[:, 0]).all()
    with pytest.raises(ConfigError, match="no free last digit"):
        dedup_random(np.array([[0, 0], [0, 0], [0, 1]]), width=2, seed=0)


def test_too_small_without_dedup_is_an_error(tmp_path):
    x = clustered(n=100)
    with pytest.raises(ConfigError, match=r"L x W = 2 x 8 gives 64 codes for 100 items; set tokenizer.dedup=digit"):
        fit_sids(x, TokenizerConfig(levels=2, width=8, dedup="none"), 0, ArtifactCache(tmp_path))
    with pytest.raises(ConfigError, match=r"share an SID .* tokenizer.dedup=none"):
        fit_sids(x, TokenizerConfig(levels=2, width=16, dedup="none"), 0, ArtifactCache(tmp_path))


def test_quality_metrics():
    x = np.eye(4, dtype=np.float32)
    q = quality(x, np.array([[0], [1], [2], [3]]), x, width=4)
    assert q["collision_rate"] == 0 and q["usage_l0"] == 1 and q["entropy_l0"] == pytest.approx(1.0)
    assert q["recon_rel_mse"] == 0


def test_rkmeans_normalized_residuals_reconstruct_in_scale():
    """tokenizer.normalize (GRID): unit-length residuals per level; the reconstruction is still in x's scale."""
    from scaling.tokenizers import rkmeans

    x = np.random.default_rng(0).normal(size=(400, 16)).astype(np.float32) * 5
    for normalize in (False, True):
        codes, recon, n = rkmeans.fit(x, 3, 16, 0, normalize=normalize)
        rel = ((x - recon) ** 2).sum() / ((x - x.mean(0)) ** 2).sum()
        assert codes.shape == (400, 3) and codes.max() < 16 and 0 < rel < 0.6, (normalize, rel)
