"""The bot's jieba dictionary: read from jieba's cache in one go, the same as jieba's own read."""
from __future__ import annotations

import jieba

from app.bot.dictionary import CACHE_FILE, load_tokenizer, read_cache


def test_the_cache_read_at_once_is_what_jieba_reads(tmp_path):
    first = load_tokenizer(tmp_path)        # no cache yet: jieba builds the dictionary and writes it
    assert (tmp_path / CACHE_FILE).exists()
    ours = jieba.Tokenizer()
    ours.tmp_dir, ours.cache_file = str(tmp_path), CACHE_FILE
    assert read_cache(ours)
    theirs = jieba.Tokenizer()
    theirs.tmp_dir, theirs.cache_file = str(tmp_path), CACHE_FILE
    theirs.initialize()
    assert ours.FREQ == theirs.FREQ == first.FREQ
    assert ours.total == theirs.total == first.total
    assert ours.initialized
    text = "小区东门的路灯坏了三天了，晚上黑漆漆的老人走路不安全"
    assert ours.lcut(text, HMM=False) == theirs.lcut(text, HMM=False)


def test_a_damaged_cache_is_left_to_jieba_which_rebuilds_it(tmp_path):
    load_tokenizer(tmp_path)
    good = (tmp_path / CACHE_FILE).read_bytes()
    for damaged in (good[: len(good) // 2], b"not a marshal file", b""):
        (tmp_path / CACHE_FILE).write_bytes(damaged)
        probe = jieba.Tokenizer()
        probe.tmp_dir, probe.cache_file = str(tmp_path), CACHE_FILE
        assert not read_cache(probe)
        tokenizer = load_tokenizer(tmp_path)
        assert tokenizer.lcut("电梯坏了", HMM=False) == ["电梯", "坏", "了"]
    assert (tmp_path / CACHE_FILE).read_bytes() == good   # jieba wrote it again


def test_a_cache_of_the_wrong_shape_is_not_taken(tmp_path):
    import marshal

    for wrong in (([], 1), ({}, 1), ({"电梯": 3}, "many"), ({"电梯": 3}, 0), "just a string"):
        (tmp_path / CACHE_FILE).write_bytes(marshal.dumps(wrong))
        probe = jieba.Tokenizer()
        probe.tmp_dir, probe.cache_file = str(tmp_path), CACHE_FILE
        assert not read_cache(probe), wrong
        assert not probe.initialized


def test_a_dictionary_other_than_jiebas_own_is_not_read_from_our_cache(tmp_path):
    load_tokenizer(tmp_path)
    words = tmp_path / "words.txt"
    words.write_text("电梯 5 n\n", encoding="utf-8")
    other = jieba.Tokenizer(str(words))
    other.tmp_dir, other.cache_file = str(tmp_path), CACHE_FILE
    assert not read_cache(other)
