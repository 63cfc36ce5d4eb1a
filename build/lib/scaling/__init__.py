"""gr-scaling: the science of one run (data, encoders, tokenizers, recommenders, training, metrics)."""
