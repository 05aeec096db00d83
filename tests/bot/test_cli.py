"""`linli bot classify` and `linli bot eval` work without a database or Redis."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(args, stdin="", tmp_path=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINLI_")}
    # Unreachable servers: the commands must not need them.
    env.update({"LINLI_DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none",
                "LINLI_REDIS_URL": "redis://127.0.0.1:9/0",
                "LINLI_INSTANCE_PATH": str(tmp_path / "instance")})
    return subprocess.run([sys.executable, "-m", "app.cli", "bot", *args], input=stdin, capture_output=True,
                          text=True, encoding="utf-8", cwd=ROOT, env=env, timeout=120)


def test_classify_writes_one_json_object_per_line(tmp_path):
    lines = "3栋楼道灯坏了好几天了\n2026-11-17T09:30:00+08:00\t明天上午想预约代办尊老金\n今天西红柿好便宜\n\n"
    result = _run(["classify", "--cache-dir", str(tmp_path / "c")], lines, tmp_path)
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == 4
    assert set(out[0]) == {"text", "intent", "confidence", "category", "needs_reply", "slots"}
    assert (out[0]["intent"], out[0]["category"], out[0]["needs_reply"]) == ("report_issue", "repair", True)
    assert out[0]["slots"] == {"building": "3"}
    assert out[1]["text"] == "明天上午想预约代办尊老金"      # the time column is not part of the text
    assert out[1]["slots"]["date"] == "2026-11-18" and out[1]["slots"]["service"] == "zunlaojin"
    assert out[2]["intent"] == "none" and out[3]["intent"] == "none"
    assert "楼道灯" in result.stdout                          # not \\u escapes


def test_classify_private_chat_and_bad_options(tmp_path):
    result = _run(["classify", "--chat-type", "private", "--cache-dir", str(tmp_path / "c")], "我想问个事\n",
                  tmp_path)
    assert json.loads(result.stdout)["intent"] == "human"
    bad = _run(["classify", "--now", "yesterday"], "", tmp_path)
    assert bad.returncode != 0 and "ISO" in bad.stderr and "Traceback" not in bad.stderr


def test_eval_prints_the_scores(tmp_path):
    labelled = tmp_path / "set.tsv"
    labelled.write_text("电梯坏了\treport_issue\trepair\n谢谢\tchitchat\t\n今天好冷\tnone\t\n转人工\thuman\t\t1\n",
                        encoding="utf-8")
    result = _run(["eval", str(labelled), "--errors", "--cache-dir", str(tmp_path / "c")], "", tmp_path)
    assert result.returncode == 0, result.stderr
    for expected in ("intent accuracy: 1.000", "intent macro-F1", "precision", "category accuracy",
                     "needs_reply precision", "confusion matrix"):
        assert expected in result.stdout


def test_eval_errors_are_one_clear_line(tmp_path):
    missing = _run(["eval", str(tmp_path / "nope.tsv")], "", tmp_path)
    assert missing.returncode != 0 and "no such file" in missing.stderr and "Traceback" not in missing.stderr
    bad = tmp_path / "bad.tsv"
    bad.write_text("电梯坏了\tbroken_intent\t\n", encoding="utf-8")
    result = _run(["eval", str(bad)], "", tmp_path)
    assert result.returncode != 0 and "bad.tsv:1: unknown intent 'broken_intent'" in result.stderr
    low = tmp_path / "low.tsv"
    low.write_text("电梯坏了\tnone\t\n", encoding="utf-8")
    result = _run(["eval", str(low), "--min-accuracy", "0.9", "--cache-dir", str(tmp_path / "c")], "", tmp_path)
    assert result.returncode != 0 and "below 0.9" in result.stderr


def test_eval_prints_the_confusion_and_the_missed_replies(tmp_path):
    labelled = tmp_path / "set.tsv"
    labelled.write_text("电梯坏了\treport_issue\trepair\t1\n"
                        "三号楼那边黑灯瞎火的\treport_issue\trepair\t1\n"       # silent: a possible report
                        "谢谢\tnone\t\t0\n"                                   # chitchat for none: both silent
                        "转人工\thuman\t\t1\n", encoding="utf-8")
    result = _run(["eval", str(labelled), "--cache-dir", str(tmp_path / "c")], "", tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "intent accuracy: 0.500 (2/4)" in out
    assert "intent accuracy with none and chitchat as one class (both silent in a group): 0.750" in out
    assert "possible reports (maybe_report: silent in a group, for the duty inbox): 1, 1 of them needing a reply" in out
    assert "needs_reply precision 1.000  recall 1.000" in out          # counting the possible report
    matrix = out[out.index("confusion matrix"):]
    assert matrix.splitlines()[2].split() == ["report_issue", "1", "0", "0", "0", "0", "0", "0", "0", "0", "1"]
    missed = out[out.index("missed replies: 1 line(s)"):].splitlines()
    assert missed[1].startswith("2: 三号楼那边黑灯瞎火的 | report_issue/repair/1 -> none/-/0 (")
    assert missed[1].endswith("(possible report)")
    assert "errors (line" not in out                                      # only with --errors
    errors = _run(["eval", str(labelled), "--errors", "--cache-dir", str(tmp_path / "c")], "", tmp_path).stdout
    listed = errors[errors.index("errors (line"):].splitlines()[1:]
    assert [line.split(":")[0] for line in listed] == ["2", "3"]


def test_eval_says_when_no_reply_was_missed(tmp_path):
    labelled = tmp_path / "set.tsv"
    labelled.write_text("电梯坏了\treport_issue\trepair\t1\n今天好冷\tnone\t\t0\n", encoding="utf-8")
    result = _run(["eval", str(labelled), "--cache-dir", str(tmp_path / "c")], "", tmp_path)
    assert result.returncode == 0 and "missed replies: none" in result.stdout
