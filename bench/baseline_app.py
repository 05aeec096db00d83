"""Baseline for bench/wechat_load.py: a Flask endpoint that only does what wechatpy does.

It checks the signature, decrypts (safe mode), parses the message and echoes the
text back as a passive reply — no database, no Redis, no replay check, no bot.
The difference to linli's /wechat/mp is what linli adds per message.

Run by the benchmark under gunicorn as ``bench.baseline_app:app``; settings come
from BENCH_TOKEN / BENCH_AES_KEY / BENCH_APPID (set by the benchmark).
"""
from __future__ import annotations

import os

from flask import Flask, Response, request
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

TOKEN = os.environ.get("BENCH_TOKEN", "benchToken")
AES_KEY = os.environ.get("BENCH_AES_KEY", "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR")
APPID = os.environ.get("BENCH_APPID", "wx00bench00000001")

app = Flask(__name__)
crypto = WeChatCrypto(TOKEN, AES_KEY, APPID)


@app.route("/wechat/mp", methods=["GET", "POST"])
def echo() -> Response:
    args = request.args
    try:
        check_signature(TOKEN, args.get("signature", ""), args.get("timestamp", ""), args.get("nonce", ""))
    except InvalidSignatureException:
        return Response("bad signature", status=403)
    if request.method == "GET":
        return Response(args.get("echostr", ""), mimetype="text/plain")
    body = request.get_data()
    aes = args.get("encrypt_type") == "aes"
    if aes:
        body = crypto.decrypt_message(body, args.get("msg_signature", ""), args["timestamp"], args["nonce"])
    message = parse_message(body)
    xml = TextReply(content=getattr(message, "content", "") or "ok", message=message).render()
    if aes:
        xml = crypto.encrypt_message(xml, args["nonce"], args["timestamp"])
    return Response(xml, mimetype="application/xml")
