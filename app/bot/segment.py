"""jieba's segmentation of a run of Chinese characters, in one tight loop.

Same dictionary (the private ``jieba.Tokenizer`` with the community words) and
same algorithm as ``jieba.cut(text, HMM=False)``: the graph of dictionary words
starting at each character, then the most probable route through it (ties go to
the longer word, as in jieba). The tokens are identical (tests/bot/test_segment.py
checks it on every labelled message); it is about a third faster than going
through jieba's generators, which matters because classification must cost at
most 1.5× a bare ``jieba.lcut`` (bench/bot_throughput.py).
"""
from __future__ import annotations

from math import log

import jieba


class HanSegmenter:
    def __init__(self, tokenizer: jieba.Tokenizer):
        tokenizer.check_initialized()
        self.tokenizer = tokenizer

    def __call__(self, run: str) -> list[str]:
        nxt = self._route(run)
        n = len(run)
        tokens = []
        x = 0
        while x < n:
            y = nxt[x] + 1
            tokens.append(run[x:y])
            x = y
        return tokens

    def single_positions(self, run: str) -> list[int]:
        """Where the route has a one-character word (all the bot needs to know)."""
        nxt = self._route(run)
        n = len(run)
        out = []
        x = 0
        while x < n:
            y = nxt[x] + 1
            if y - x == 1:
                out.append(x)
            x = y
        return out

    def _route(self, run: str) -> list[int]:
        """For each position, the last index of the word the best route takes there."""
        _log = log
        freq = self.tokenizer.FREQ          # read each time: add_word/del_word change it
        get = freq.get
        logtotal = _log(self.tokenizer.total)
        n = len(run)
        # Words of the dictionary that start at each position (their last index).
        dag = []
        for k in range(n):
            ends = []
            i = k
            frag = run[k]
            while i < n and frag in freq:
                if freq[frag]:
                    ends.append(i)
                i += 1
                frag = run[k:i + 1]
            dag.append(ends or [k])
        # Best route from the end backwards.
        best = [0.0] * (n + 1)
        nxt = [0] * n
        for idx in range(n - 1, -1, -1):
            top = None
            top_x = idx
            for x in dag[idx]:
                value = _log(get(run[idx:x + 1]) or 1) - logtotal + best[x + 1]
                if top is None or value > top or (value == top and x > top_x):
                    top, top_x = value, x
            best[idx] = top
            nxt[idx] = top_x
        return nxt
