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
        self._freq: dict | None = None
        self._logp: dict[str, float] = {}
        self._logtotal = 0.0

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

    def stands_alone(self, run: str, x: int, longest: int = 4) -> bool:
        """Is ``run[x]`` outside every word of 2..``longest`` characters of the dictionary that
        covers it? The bot's test for a single-character cue ("修" in "来修一下" counts, in "装修"
        it does not): a few lookups around the character instead of a route through the whole
        run, and on every labelled set the same outcome as jieba's route (docs/bot.md §3).
        ``run`` may be a whole message: a fragment across a space or a comma is no word."""
        freq = self.tokenizer.FREQ
        n = len(run)
        for start in range(x - longest + 1 if x >= longest else 0, x + 1):
            end = start + 1
            while end < n and end - start < longest:
                end += 1
                f = freq.get(run[start:end])
                if f is None:
                    break          # no dictionary word starts with this fragment
                if f and end > x:
                    return False   # a word covers position x
        return True

    def _route(self, run: str) -> list[int]:
        """For each position, the last index of the word the best route takes there.

        One backward pass: at each position the dictionary words starting there are found
        by extending the fragment while it is still a prefix in jieba's dictionary (which
        lists every prefix, with frequency 0 when it is not a word itself), and scored with
        the best route after them. Log-probabilities are remembered per word.
        """
        freq = self.tokenizer.FREQ          # read each time: add_word/del_word change it
        if freq is not self._freq:
            self._freq, self._logp = freq, {}
            self._logtotal = log(self.tokenizer.total)
        logp = self._logp
        logtotal = self._logtotal
        n = len(run)
        best = [0.0] * (n + 1)
        nxt = [0] * n
        for idx in range(n - 1, -1, -1):
            top = None
            top_x = idx
            i = idx
            frag = run[idx]
            f = freq.get(frag)
            while f is not None:
                if f:
                    value = logp.get(frag)
                    if value is None:
                        value = logp[frag] = log(f) - logtotal
                    value += best[i + 1]
                    if top is None or value >= top:   # ties go to the longer word, as in jieba
                        top, top_x = value, i
                i += 1
                if i >= n:
                    break
                frag = run[idx:i + 1]
                f = freq.get(frag)
            if top is None:   # no word starts here: the character alone, at jieba's floor frequency
                top = -logtotal + best[idx + 1]
            best[idx] = top
            nxt[idx] = top_x
        return nxt
