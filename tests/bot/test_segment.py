"""The bot's segmentation loop gives exactly jieba's tokens (same dictionary, same route)."""
from __future__ import annotations

import re
from pathlib import Path

from app.bot.evaluation import read_file

HAN = re.compile("[\u4e00-\u9fff]+")
DATA = Path(__file__).parent / "data"


def test_same_tokens_as_jieba_on_every_labelled_message(bot):
    model = bot.model
    runs = [run for name in ("dev.tsv", "holdout.tsv") for e in read_file(DATA / name)
            for run in HAN.findall(model.normalizer.normalize(e.text)[0])]
    assert len(runs) > 500
    different = [run for run in runs if model.cut_block(run) != model.tokenizer.lcut(run, HMM=False)]
    assert different == []


def test_community_words_stay_whole(bot):
    assert "飞线充电" in bot.segment("楼下又有人飞线充电")
    assert "四点半课堂" in bot.segment("四点半课堂还能报吗")
    assert "尊老金" in bot.segment("想预约代办尊老金")
