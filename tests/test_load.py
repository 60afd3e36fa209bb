"""Many askers at once: the real app under 20 concurrent clients answers each one completely and alone."""

from __future__ import annotations

import json
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path

from gradio_client import Client


ROOT = Path(__file__).resolve().parents[1]
ARTICLE_TEXT = (ROOT / "data" / "article.txt").read_text(encoding="utf-8")
CLIENTS = 20
QUESTIONS_PER_CLIENT = 10
QUESTIONS_PER_LANGUAGE = 10
HARD_TIMEOUT_S = 300
REQUEST_TIMEOUT_S = 120


def answerable_questions() -> list[str]:
    """Ten Arabic and ten English answerable questions from the evaluation pairs, interleaved."""
    pairs = [json.loads(line) for line in (ROOT / "eval" / "data" / "qa.jsonl").read_text(encoding="utf-8").splitlines()
             if line.strip()]
    by_language = {
        language: [p["question"] for p in pairs if p["lang"] == language and p["type"] != "unanswerable"]
        for language in ("ar", "en")
    }
    chosen = {language: questions[:: max(1, len(questions) // QUESTIONS_PER_LANGUAGE)][:QUESTIONS_PER_LANGUAGE]
              for language, questions in by_language.items()}
    return [q for pair in zip(chosen["ar"], chosen["en"]) for q in pair]


def essence(result: dict) -> tuple:
    """What must not depend on who else is asking: whether it abstained and the quotes' texts."""
    return result.get("abstained"), tuple(q["text"] for q in result.get("quotes", ()))


def test_concurrent_clients_each_get_their_own_complete_answer(app_url, session_config, record_property):
    questions = answerable_questions()
    assert len(questions) == 2 * QUESTIONS_PER_LANGUAGE and len(set(questions)) == len(questions)
    alone_client = Client(app_url, verbose=False, analytics_enabled=False)
    alone = {q: essence(alone_client.predict(q, api_name="/ask")) for q in questions}

    results: list[tuple[int, str, dict | None, float, str | None]] = []
    lock = threading.Lock()
    stop = threading.Event()

    def asker(number: int) -> None:
        client = Client(app_url, verbose=False, analytics_enabled=False)
        for turn in range(QUESTIONS_PER_CLIENT):
            if stop.is_set():
                return
            question = questions[(number + turn * 3) % len(questions)]  # each client its own order
            started = time.perf_counter()
            try:
                result, problem = client.submit(question, api_name="/ask").result(timeout=REQUEST_TIMEOUT_S), None
            except Exception as error:  # recorded and failed on below, with the others' results
                result, problem = None, f"{type(error).__name__}: {error}"
            with lock:
                results.append((number, question, result, time.perf_counter() - started, problem))

    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        futures = [pool.submit(asker, n) for n in range(CLIENTS)]
        done, pending = wait(futures, timeout=HARD_TIMEOUT_S)
        stop.set()
        for future in pending:
            future.cancel()
    elapsed = time.perf_counter() - began
    assert not pending, f"{len(pending)} clients still running after {HARD_TIMEOUT_S} s"
    for future in done:
        future.result()

    latencies = sorted(seconds for *_, seconds, _ in results)
    p50 = statistics.median(latencies) * 1000
    p95 = latencies[min(len(latencies) - 1, int(round(0.95 * len(latencies))) - 1)] * 1000
    record_property("requests", len(results))
    record_property("concurrency", session_config.concurrency)
    record_property("p50_ms", round(p50))
    record_property("p95_ms", round(p95))
    record_property("wall_s", round(elapsed, 1))
    print(f"\nload: {len(results)} requests from {CLIENTS} clients, app concurrency {session_config.concurrency}: "
          f"p50 {p50:.0f} ms, p95 {p95:.0f} ms, max {latencies[-1] * 1000:.0f} ms, "
          f"{elapsed:.1f} s wall, {len(results) / elapsed:.1f} req/s")

    assert len(results) == CLIENTS * QUESTIONS_PER_CLIENT
    problems = []
    for number, question, result, _, error in results:
        where = f"client {number}, {question!r}"
        if error:
            problems.append(f"{where}: {error}")
        elif "error" in result:
            problems.append(f"{where}: error {result['error']!r}")
        elif result.get("question") != question:
            problems.append(f"{where}: answered {result.get('question')!r}")
        elif not (result["quotes"] or result["abstained"]):
            problems.append(f"{where}: neither quotes nor an abstention")
        elif any(q["text"] not in ARTICLE_TEXT for q in result["quotes"]):
            problems.append(f"{where}: a quote is not the article's text")
        elif essence(result) != alone[question]:
            problems.append(f"{where}: {essence(result)} differs from the answer asked alone {alone[question]}")
    assert not problems, f"{len(problems)} bad answers:\n" + "\n".join(problems[:20])
    # After the storm the app still answers.
    assert essence(alone_client.predict(questions[0], api_name="/ask")) == alone[questions[0]]
