from app.bot import engine
from app.gunicorn_conf import post_worker_init


def test_worker_init_builds_the_bot_before_the_first_request(app, monkeypatch):
    monkeypatch.setattr(engine, "_default", {})
    post_worker_init(worker=None)
    assert isinstance(engine._default.get("bot"), engine.Bot)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _raw_request(port: int, data: bytes) -> bytes:
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def test_requests_gunicorn_cannot_parse_get_a_chinese_page(tmp_path):
    """A real gunicorn with the production settings (`-c python:app.gunicorn_conf`)."""
    import subprocess
    import sys
    import time
    from pathlib import Path

    (tmp_path / "hello.py").write_text(
        "def app(environ, start_response):\n"
        "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
        "    return [b'hello']\n", encoding="utf-8")
    port = _free_port()
    root = Path(__file__).resolve().parents[1]
    from app.cli.run import _gunicorn_options

    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "python:app.gunicorn_conf", "--workers", "1",
                             "--bind", f"127.0.0.1:{port}", "--chdir", str(tmp_path), *_gunicorn_options(),
                             "hello:app"],
                            cwd=root, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root), "HOME": str(tmp_path)},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if b"hello" in _raw_request(port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"):
                    break
            except OSError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, proc.stdout.read().decode()[-2000:]
            time.sleep(0.3)
        cases = [(b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", b"414", "网址太长"),
                 (b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: y\r\n" % i for i in range(200)) + b"\r\n",
                  b"431", "请求头过大"),
                 (b"GARBAGE\r\n\r\n", b"400", "请求格式不正确"),
                 (b"GET / HTTP/1.1\r\nBad Header Name: y\r\n\r\n", b"400", "请求格式不正确"),
                 (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: sparkle\r\n\r\n", b"501", "不支持该传输编码"),
                 (b"POST / HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\nContent-Length: 2\r\n\r\nok", b"417",
                  "Expect 要求无法满足")]
        for request, status, words in cases:
            answer = _raw_request(port, request)
            head, _, body = answer.partition(b"\r\n\r\n")
            assert head.split(b"\r\n")[0].split(b" ")[1] == status, head
            assert b"text/html; charset=utf-8" in head
            assert words in body.decode("utf-8"), body
        # A good request still reaches the app.
        good = _raw_request(port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert good.startswith(b"HTTP/1.1 200 ") and b"hello" in good
    finally:
        proc.terminate()
        proc.wait(30)
