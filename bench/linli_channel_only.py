"""linli's WSGI app with the conversation handler removed, for bench/wechat_load.py.

The callback then answers with the core's fixed help text, so the benchmark can
show the channel layer (verify, replay check, parse, store once, passive reply)
apart from the bot's own cost.
"""
from app import create_app
from app.handlers.messaging.inbound import set_conversation_handler

app = create_app()
set_conversation_handler(None)
app.config["INBOUND_EXPRESS"] = False   # the express answer is the bot's too (conversation/express.py)
