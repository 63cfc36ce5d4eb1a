"""The ID-based baseline paradigm (SASRec): item-ID embeddings, causal self-attention, full softmax over items."""
