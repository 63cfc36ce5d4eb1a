"""gr-scaling: the science of one run (data, encoders, tokenizers, recommenders, training, metrics)."""


def load_model(run, cache_dir=None, data_dir=None, device: str = "cpu"):
    """A finished run's trained model, ready to recommend (scaling.loading; imports torch only when called)."""
    from scaling.loading import load_model as _load

    return _load(run, cache_dir, data_dir, device)
