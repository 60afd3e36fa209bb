"""The chat server as people and programs meet it: the page in a browser beside a bare Gradio echo
page, throughput with many clients, and memory over thousands of questions.

Used by ``benchmarks/bench.py``; every server runs in a process of its own, started here, so the
browser and the clients never share the server's interpreter.
"""

from __future__ import annotations

import itertools
import os
import re
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from iqtibas.eval import percentile

from iqtibas.config import PROJECT_ROOT

SERVER_READY_SECONDS = 300
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
REPLY_TIMEOUT_MS = 60_000
# A page is reloaded after this many questions: a conversation, not one chat thousands of messages long.
QUESTIONS_PER_PAGE = 10
PAGE_GOAL_MARGIN = 0.10
CLIENTS = 20
MEMORY_CLIENTS = 4
MEMORY_MARKS = (1000, 2000, 5000)
IDLE_SECONDS = 15  # longer than the page's idle trim (chat.app.IDLE_TRIM_SECONDS)
HTTP_TIMEOUT = 120

# The chat page as `iqtibas chat` serves it; settings come from the IQTIBAS_* variables it is given.
SERVER_CHILD = """
import time
from iqtibas.chat import build_app, launch
from iqtibas.config import load_config
from iqtibas.index import Index
config = load_config()
launch(build_app(Index.open(config), config), config)
print("READY", flush=True)
while True:
    time.sleep(3600)
"""

# The least a Gradio chat page can be: a chatbot and a textbox whose question comes back as the reply.
ECHO_CHILD = """
import sys, time
import gradio as gr
def echo(question, history):
    return "", [*history, {"role": "user", "content": question}, {"role": "assistant", "content": question}]
with gr.Blocks(analytics_enabled=False) as demo:
    chatbot = gr.Chatbot(elem_id="chat")
    box = gr.Textbox(elem_id="question")
    box.submit(echo, [box, chatbot], [box, chatbot])
demo.queue().launch(server_name="127.0.0.1", server_port=int(sys.argv[1]), quiet=True, prevent_thread_lock=True,
                    ssr_mode=False)
print("READY", flush=True)
while True:
    time.sleep(3600)
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def status_kib(pid: int, field: str) -> int:
    """A memory field of /proc/<pid>/status (VmRSS, VmHWM), in KiB."""
    return int(re.search(rf"{field}:\s+(\d+)", Path(f"/proc/{pid}/status").read_text()).group(1))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, all its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def mib(kib: int) -> float:
    return round(kib / 1024, 1)


def summary(values: list[float]) -> dict:
    return {"p50": round(percentile(values, 50), 1), "p95": round(percentile(values, 95), 1), "n": len(values)}


@contextmanager
def server(code: str, **settings):
    """A server process running ``code`` on a free port; yields (url, pid). ``settings`` become
    IQTIBAS_* variables."""
    port = free_port()
    environ = {**os.environ, "IQTIBAS_PORT": str(port), "IQTIBAS_HOST": "127.0.0.1",
               **{f"IQTIBAS_{name.upper()}": str(value) for name, value in settings.items()}}
    process = subprocess.Popen([sys.executable, "-c", code, str(port)], cwd=PROJECT_ROOT, env=environ,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        deadline = time.monotonic() + SERVER_READY_SECONDS
        for line in process.stdout:
            if line.startswith("READY"):
                break
            if time.monotonic() > deadline:
                raise SystemExit("a benchmark server did not start")
        else:
            raise SystemExit("a benchmark server exited before it was ready")
        yield f"http://127.0.0.1:{port}", process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


class Asker:
    """Asks /ask over plain HTTP (Gradio's /call route), one connection per thread; each call is a
    session of its own, as each visitor is."""

    def __init__(self, url: str):
        self.route = f"{url}/gradio_api/call/ask"
        self._local = threading.local()

    def __call__(self, question: str) -> None:
        import httpx

        client = getattr(self._local, "client", None) or httpx.Client(timeout=HTTP_TIMEOUT)
        self._local.client = client
        event = client.post(self.route, json={"data": [question]}).json()["event_id"]
        with client.stream("GET", f"{self.route}/{event}") as stream:
            for line in stream.iter_lines():
                if line.startswith("event: error"):
                    raise SystemExit(f"/ask failed for {question!r}")
                if line.startswith("event: complete"):
                    return


# -- what a person waits for ------------------------------------------------------------

def reply_ms(page, question: str) -> float:
    """Type ``question``, press Enter and wait for one more reply to be on the page."""
    box = page.locator("#question textarea")
    replies = page.locator("#chat [data-testid=bot]").count()
    box.fill(question)
    started = time.perf_counter()
    box.press("Enter")
    page.wait_for_function("n => document.querySelectorAll('#chat [data-testid=bot]').length > n", arg=replies,
                           polling="raf", timeout=REPLY_TIMEOUT_MS)
    return (time.perf_counter() - started) * 1000


def open_page(browser, url: str):
    page = browser.new_page()
    page.goto(url, wait_until="domcontentloaded")  # not networkidle: web fonts never load offline
    page.locator("#question textarea").wait_for()
    return page


def bench_page(questions: list[str], answer_p50: float, warmup: int) -> dict:
    """Our page and the echo page in one headless Chromium, alternating question by question."""
    from playwright.sync_api import sync_playwright

    times = {"ours": [], "echo": []}
    with server(SERVER_CHILD) as (ours_url, _), server(ECHO_CHILD) as (echo_url, _), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        urls = {"ours": ours_url, "echo": echo_url}
        pages = {}
        for number, question in enumerate([*questions[:warmup], *questions]):
            if number % QUESTIONS_PER_PAGE == 0:
                for page in pages.values():
                    page.close()
                pages = {name: open_page(browser, url) for name, url in urls.items()}
            order = list(pages) if number % 2 == 0 else list(reversed(pages))
            for name in order:
                elapsed = reply_ms(pages[name], question)
                if number >= warmup:
                    times[name].append(elapsed)
        browser.close()
    ours, echo = summary(times["ours"]), summary(times["echo"])
    goal = round((echo["p50"] + answer_p50) * (1 + PAGE_GOAL_MARGIN), 1)
    return {"ours": ours, "echo": echo, "answer_p50": answer_p50, "goal_ms": goal, "met": ours["p50"] <= goal,
            "questions_per_page": QUESTIONS_PER_PAGE}


# -- throughput ---------------------------------------------------------------------------

def ask_all(url: str, questions: list[str], clients: int) -> list[float]:
    """Every question asked once by ``clients`` concurrent clients; the milliseconds of each."""
    asker = Asker(url)

    def timed(question: str) -> float:
        started = time.perf_counter()
        asker(question)
        return (time.perf_counter() - started) * 1000
    with ThreadPoolExecutor(clients) as pool:
        return list(pool.map(timed, questions))


def bench_throughput(questions: list[str], warmup: int, batch_sizes: tuple[int, ...]) -> dict:
    """Questions per second with CLIENTS concurrent clients, against the compute limit (2 cores over the
    server's CPU time per question), for each batch size of /ask (1: no batching)."""
    runs = {}
    cores = os.cpu_count()
    for batch in batch_sizes:
        with server(SERVER_CHILD, batch_questions=batch) as (url, pid):
            ask_all(url, [f"warm-up {number}" for number in range(warmup)], CLIENTS)
            cpu, started = cpu_seconds(pid), time.perf_counter()
            latencies = ask_all(url, questions, CLIENTS)
            wall, cpu = time.perf_counter() - started, cpu_seconds(pid) - cpu
        per_question = cpu / len(questions)
        limit = cores / per_question
        rate = len(questions) / wall
        runs[str(batch)] = {"questions": len(questions), "seconds": round(wall, 1),
                            "questions_per_s": round(rate, 1), "cpu_ms_per_question": round(per_question * 1000, 1),
                            "compute_limit_per_s": round(limit, 1), "share_of_limit": round(rate / limit, 2),
                            "latency_ms": summary(latencies)}
    return {"clients": CLIENTS, "cores": cores, "runs": runs}


# -- memory -------------------------------------------------------------------------------

def numbered_questions(questions: list[str], count: int) -> list[str]:
    """``count`` distinct strings: the questions, then the questions numbered (2), (3), ..."""
    numbered = itertools.chain(questions, (f"{q} ({n})" for n in itertools.count(2) for q in questions))
    return list(itertools.islice(numbered, count))


def bench_memory(questions: list[str], marks: tuple[int, ...], **settings) -> dict:
    """The server's RSS after start-up, after each mark of distinct questions, then after idling."""
    asked = numbered_questions(questions, max(marks))
    with server(SERVER_CHILD, **settings) as (url, pid):
        rss = {"start": mib(status_kib(pid, "VmRSS"))}
        done = 0
        for mark in marks:
            ask_all(url, asked[done:mark], MEMORY_CLIENTS)
            done = mark
            rss[f"after {mark:,}"] = mib(status_kib(pid, "VmRSS"))
        time.sleep(IDLE_SECONDS)
        rss[f"idle {IDLE_SECONDS} s"] = mib(status_kib(pid, "VmRSS"))
        peak = mib(status_kib(pid, "VmHWM"))
    return {"settings": settings, "rss_mib": rss, "peak_mib": peak}
