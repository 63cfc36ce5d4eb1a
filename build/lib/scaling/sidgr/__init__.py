"""SID-GR: the recommender model and its size presets, batching, the SID trie and beam search, the pipeline."""
