"""jieba's dictionary for the bot: a private ``jieba.Tokenizer`` loaded from its cache.

Loading the dictionary is most of the bot's start-up. ``jieba.Tokenizer.initialize`` reads
its cache with ``marshal.load`` on the open file, which makes one read call per entry: about
0.55 s of CPU for the 500,000 entries, against 0.17 s for ``marshal.loads`` of the whole
file at once (docs/benchmarks.md, "Sixth round"). The file and its contents are jieba's own; only the
read differs. Without a cache, or with one that does not read back, jieba builds the
dictionary and writes the cache as usual.
"""
from __future__ import annotations

import logging
import marshal
import tempfile
from pathlib import Path

import jieba

log = logging.getLogger(__name__)

CACHE_FILE = "linli-jieba.cache"


def default_cache_dir() -> Path:
    return Path(tempfile.gettempdir()) / "linli-bot-cache"


def load_tokenizer(cache_dir: Path) -> jieba.Tokenizer:
    jieba.setLogLevel(logging.WARNING)   # jieba logs "Building prefix dict" at DEBUG to stderr
    tokenizer = jieba.Tokenizer()
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tokenizer.tmp_dir = str(cache_dir)
    except OSError:
        log.warning("bot cache dir %s is not writable; jieba uses the system temp dir", cache_dir)
    tokenizer.cache_file = CACHE_FILE
    if not read_cache(tokenizer):
        tokenizer.initialize()
    return tokenizer


def read_cache(tokenizer: jieba.Tokenizer) -> bool:
    """Fill ``tokenizer`` from jieba's cache of its default dictionary; False leaves it to jieba."""
    if tokenizer.initialized or tokenizer.dictionary != jieba.DEFAULT_DICT:
        return False
    path = Path(tokenizer.tmp_dir or tempfile.gettempdir()) / tokenizer.cache_file
    try:
        freq, total = marshal.loads(path.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return False
    if not isinstance(freq, dict) or not freq or not isinstance(total, int) or total <= 0:
        return False
    with tokenizer.lock:
        tokenizer.FREQ, tokenizer.total = freq, total
        tokenizer.initialized = True
    return True
