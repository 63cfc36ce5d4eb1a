"""Prefix trie over real items' SIDs, stored as one dense transition table per digit position, so
a batched beam step looks up allowed digits and next nodes with one gather (no Python loop)."""
from __future__ import annotations

import numpy as np
import torch


class SIDTrie:
    def __init__(self, codes: np.ndarray, widths: list[int]):
        """codes: (n_items, L') unique SIDs. next[d][node, v] = child node id at depth d+1, or -1;
        at the last depth the child id is the item index."""
        n, depth = codes.shape
        self.widths = widths
        self.next: list[torch.Tensor] = []
        parent = np.zeros(n, dtype=np.int64)
        for d in range(depth):
            if d == depth - 1:
                child = np.arange(n)
            else:
                _, child = np.unique(codes[:, : d + 1], axis=0, return_inverse=True)
                child = child.reshape(-1)
            table = np.full((int(parent.max()) + 1, widths[d]), -1, dtype=np.int64)
            table[parent, codes[:, d]] = child
            self.next.append(torch.from_numpy(table))
            parent = child

    def to(self, device) -> "SIDTrie":
        """Move the tables (in place; a no-op when already there). Built on the CPU, moved once."""
        self.next = [t.to(device) for t in self.next]
        return self

    def step(self, depth: int, node: torch.Tensor) -> torch.Tensor:
        """(N,) node ids at `depth` (-1 = off the trie) -> (N, W_depth) child ids (-1 = not a real prefix)."""
        rows = self.next[depth][node.clamp(min=0)]
        return rows.masked_fill((node < 0)[:, None], -1)
