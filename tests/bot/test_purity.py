"""app.bot is pure: text in, understanding out, without Flask or a database."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_importing_and_using_the_bot_loads_no_flask_and_no_database(tmp_path):
    # The parent package app/__init__.py (the Flask app factory) imports Flask itself; stand in
    # for it with a bare namespace so that only what app.bot imports is measured.
    code = (
        "import sys, types\n"
        f"pkg = types.ModuleType('app'); pkg.__path__ = [{str(ROOT / 'app')!r}]; sys.modules['app'] = pkg\n"
        "from app.bot import Bot, get_bot, Understanding, Vocabulary, ServiceTerm, EventTerm\n"
        f"b = Bot(cache_dir={str(tmp_path)!r})\n"
        "u = b.understand('3栋楼道灯坏了', chat_type='group')\n"
        "assert u.intent == 'report_issue', u\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'sqlalchemy', 'redis', 'werkzeug'))\n"
        "print(bad)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_bot_source_does_not_import_app_modules_outside_the_bot():
    for path in (ROOT / "app" / "bot").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        for forbidden in ("import flask", "from flask", "sqlalchemy", "from app.models", "from app.extensions",
                          "from app.clock", "import redis"):
            assert forbidden not in source, f"{path.name} uses {forbidden}"


def test_jieba_cache_goes_to_the_given_folder(tmp_path):
    from app.bot import Bot

    Bot(cache_dir=tmp_path / "cache")
    assert (tmp_path / "cache" / "linli-jieba.cache").exists()
