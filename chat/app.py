"""The chat page: ask the article in Arabic or English, read its own sentences back.

``build_app(index, config)`` returns the Gradio Blocks app; ``iqtibas chat``
launches it. The model and index are loaded once by the caller and shared by
every question; the queue answers at most ``config.concurrency`` at a time.

Gradio's API stays on, with two named endpoints:

``/ask`` (question: str) -> dict
    The Answer as JSON (``dataclasses.asdict``: question, language,
    abstained, quotes, passages, footnotes, timing_ms, message, score, level,
    signals, decided_by), or
    ``{"error": "..."}`` when the question cannot be used (empty, too long)::

        from gradio_client import Client
        client = Client("http://127.0.0.1:7860/")
        client.predict("Which Russian weapons were sold to China?", api_name="/ask")

``/chat`` (question: str, history: list) -> (textbox, history, sources)
    What the page itself calls: the history with the new exchange appended
    as escaped HTML messages, and the sources panel's HTML.

Everything the user typed and everything the article contains is escaped
before it reaches the page (see ``render.text_html``); the Chatbot renders
no Markdown and no LaTeX.

``launch(demo, config)`` serves it behind ``Guard``: Gradio's routes that take files (the app
takes none) are refused, and every response carries headers that forbid type sniffing,
framing and sending the page's address on.
"""

from __future__ import annotations

import ctypes
import dataclasses
import errno
import logging
import re
import socket
import threading
import time

import gradio as gr
from gradio.utils import get_upload_folder
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse

from iqtibas.chat.answer import answer
from iqtibas.chat.render import (
    answer_html,
    header_html,
    notice_html,
    passages_html,
    question_html,
    sources_placeholder_html,
)
from iqtibas.config import Config
from iqtibas.index import Index
from iqtibas.question import analyse, printable_text, visible_text, written_language
from iqtibas.records import Answer, IqtibasError

logger = logging.getLogger(__name__)

PAGE_TITLE = "iqtibas · اقتباس"
CHAT_LABEL = "Chat · المحادثة"
SOURCES_LABEL = "Sources · المصادر"
INPUT_LABEL = "Your question · سؤالك"
INPUT_PLACEHOLDER = "اكتب سؤالك هنا… / Type your question…"
SEND_LABEL = "Ask · اسأل"
EXAMPLES_LABEL = "Examples · أمثلة"
CHAT_MAX_HEIGHT = 1100  # pixels: the chat grows to show an Arabic and an English exchange, then scrolls
CONCURRENCY_GROUP = "answer"  # the chat and the API share one limit on questions answered at once
# glibc keeps freed memory for reuse instead of returning it (loading the model and the index leaves
# much of it so held); the page gives it back at launch, and whenever it falls idle.
IDLE_TRIM_SECONDS = 5.0

EXAMPLES = [
    "ما هي الأسلحة الروسية التي بيعت للصين؟",
    "Which Russian weapons were sold to China?",
    "من كتب هذا المقال؟",
    "What do Moscow and Beijing oppose in the Indo-Pacific?",
    "What does the article say about the FIFA World Cup?",  # the article does not say
]

# Replies to a question that cannot be answered, in the asker's language.
NOTICES = {
    "empty": {"ar": "من فضلك اكتب سؤالًا عن المقال.", "en": "Please type a question about the article."},
    "too_long": {
        "ar": "هذا السؤال طويل جدًا ({length} حرفًا)؛ من فضلك اختصره إلى {limit} حرفًا أو أقل.",
        "en": "That question is {length:,} characters long; please ask it in {limit:,} characters or fewer.",
    },
    "unusable": {"ar": "عذرًا، لا يمكن استخدام هذا السؤال: {reason}", "en": "Sorry, that question cannot be used: {reason}"},
    "failed": {
        "ar": "عذرًا، حدث خطأ أثناء البحث عن الجواب. حاول مرة أخرى من فضلك.",
        "en": "Sorry, something went wrong while looking for the answer. Please try again.",
    },
}

# Styles for the HTML built by render.py; injected into the page's <head> once.
PAGE_CSS = """
/* Gradio aligns every message left; our blocks align to the start of their own direction. */
.header, .answer, .question, .notice, .sources { text-align: start; }
.answer, .question, .sources { overflow-wrap: anywhere; }  /* long reference URLs wrap */
.header { display: flex; gap: 2rem; flex-wrap: wrap; }
.header .about { flex: 1 1 20rem; }
.header h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
.header p { margin: .2rem 0; }
.answer .framing { font-weight: 600; margin: 0 0 .4rem; }
.answer blockquote, .sources .passage { margin: .4rem 0; padding: .3rem .7rem;
  border-inline-start: 3px solid var(--color-accent, #f97316); }
.answer .label, .sources .label { font-weight: 600; margin: .6rem 0 .2rem; }
.answer .footnote { font-size: .85em; margin: .15rem 0; }
.answer a.marker { text-decoration: none; font-weight: 600; }
.sources .where { font-size: .8em; opacity: .75; margin: 0 0 .2rem; }
.sources .text { margin: 0; line-height: 1.7; }
.sources mark { background: #fde68a; color: inherit; padding: 0 .1em; }
"""


def notice_for(question: str, error: Exception, config: Config) -> str:
    """A polite reply for a question that got no answer, in the asker's language (both when unknown)."""
    if not isinstance(error, IqtibasError):
        kind = "failed"
    elif not visible_text(question):
        kind = "empty"
    elif len(question) > config.max_question_chars:
        kind = "too_long"
    else:
        kind = "unusable"
    values = {"length": len(question), "limit": config.max_question_chars, "reason": str(error)}
    language = written_language(question)
    languages = [language] if language else list(NOTICES[kind])
    return notice_html([(lang, NOTICES[kind][lang].format(**values)) for lang in languages])


def shown_question(question: str, config: Config) -> str:
    """The asker's message as echoed in the chat: no longer than a question may be, and sendable."""
    question, limit = printable_text(question), config.max_question_chars
    return question if len(question) <= limit else question[:limit] + "…"


def release_memory() -> bool:
    """Give the system back the memory the C allocator holds free (glibc's ``malloc_trim``).

    Returns False where the C library has no such call (not glibc), and does nothing there.
    """
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return False
    trim(0)
    return True


class IdleTrim:
    """Calls ``release_memory`` once no answer has been given for ``seconds`` since the last one."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._last = 0.0
        self._answered = threading.Event()
        threading.Thread(target=self._run, name="iqtibas-idle-trim", daemon=True).start()

    def answered(self) -> None:
        self._last = time.monotonic()
        self._answered.set()

    def _run(self) -> None:
        while True:
            self._answered.wait()
            self._answered.clear()
            while (left := self._last + self.seconds - time.monotonic()) > 0:
                time.sleep(left)
            release_memory()


def build_app(index: Index, config: Config) -> gr.Blocks:
    """The chat page over an already loaded index (and its model)."""
    idle = IdleTrim(IDLE_TRIM_SECONDS)

    def attempt(question: str) -> Answer | Exception:
        """The answer, or the reason there is none; no exception escapes to take the page down."""
        try:
            return answer(question, index, config)
        except IqtibasError as error:
            return error
        except Exception as error:  # a bug must cost one reply, not the app; the log keeps the traceback
            logger.exception("answering %r failed", question[: config.max_question_chars])
            return error
        finally:
            idle.answered()

    def chat(question: str, history: list[dict]) -> tuple[str, list[dict], str]:
        """One exchange: the question echoed as text, the reply as HTML, the sources panel refreshed."""
        question = question or ""
        result = attempt(question)
        exchange = []
        if visible_text(question):
            exchange.append({"role": "user", "content": question_html(shown_question(question, config))})
        if isinstance(result, Answer):
            reply, sources = answer_html(result), passages_html(result)
        else:
            reply, sources = notice_for(question, result, config), gr.skip()
        exchange.append({"role": "assistant", "content": reply})
        return "", [*history, *exchange], sources

    def ask(question: str) -> dict:
        """The Answer as JSON, or {"error": ...} when there is none."""
        result = attempt(question or "")
        if isinstance(result, Answer):
            return dataclasses.asdict(result)
        return {"error": str(result) if isinstance(result, IqtibasError) else NOTICES["failed"]["en"]}

    def ask_together(questions: list[str]) -> tuple[list[dict]]:
        """/ask for the questions waiting together in the queue: their vectors in one pass, then each answer."""
        usable = []
        for question in questions:
            try:
                usable.append(analyse(question or "", config, index))
            except IqtibasError:
                pass  # its own answer says why
        try:
            index.embed_questions(usable)
        except Exception:  # each question then embeds on its own, and one that fails says so
            logger.exception("embedding %d questions together failed", len(usable))
        return ([ask(question) for question in questions],)

    titles = [article["title"] for article in index.info()["articles"]]
    with gr.Blocks(title=PAGE_TITLE, analytics_enabled=False) as demo:  # offline: no version check
        gr.HTML(header_html(titles), head=f"<style>{PAGE_CSS}</style>", js_on_load=None)
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(
                    label=CHAT_LABEL,
                    elem_id="chat",
                    height=None,
                    max_height=CHAT_MAX_HEIGHT,
                    render_markdown=False,  # messages are escaped HTML; Markdown would re-read their text
                    latex_delimiters=[],
                    sanitize_html=True,
                    allow_tags=False,
                    feedback_options=None,
                    group_consecutive_messages=False,  # a reply to an empty question stands on its own
                    buttons=["copy"],
                )
                with gr.Row():
                    box = gr.Textbox(label=INPUT_LABEL, placeholder=INPUT_PLACEHOLDER,
                                     scale=5, autofocus=True, elem_id="question")
                    send = gr.Button(SEND_LABEL, variant="primary", scale=1, elem_id="ask")
                gr.Examples(EXAMPLES, inputs=box, label=EXAMPLES_LABEL)
            with gr.Column(scale=2):
                sources = gr.HTML(sources_placeholder_html(), label=SOURCES_LABEL, show_label=True,
                                  container=True, padding=True, js_on_load=None, elem_id="sources")
        # Only the chat shows that a reply is coming: the question stays readable in its box, and the
        # sources panel is not dimmed. Three animated trackers also took the CPU the answer needs.
        gr.on([box.submit, send.click], chat, inputs=[box, chatbot], outputs=[box, chatbot, sources],
              show_progress_on=[chatbot], api_name="chat", concurrency_limit=config.concurrency,
              concurrency_id=CONCURRENCY_GROUP)
        if config.batch_questions > 1:
            gr.api(ask_together, api_name="ask", batch=True, max_batch_size=config.batch_questions,
                   concurrency_limit=config.concurrency, concurrency_id=CONCURRENCY_GROUP)
        else:
            gr.api(ask, api_name="ask", concurrency_limit=config.concurrency, concurrency_id=CONCURRENCY_GROUP)
    demo.queue(default_concurrency_limit=config.concurrency)
    return demo


# -- serving ----------------------------------------------------------------------------

# Every response: no type sniffing, no framing by another site, no page address sent with a link.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
}
# Gradio's routes that take files from anyone; the app asks for none, so they are refused.
FILE_ROUTES = ("/gradio_api/upload", "/gradio_api/upload_progress", "/gradio_api/process_recording")
NO_FILES = "This app takes no files."


def takes_files(path: str) -> bool:
    """Whether a request path is one of Gradio's upload routes (however its slashes are doubled)."""
    path = re.sub("/+", "/", path).rstrip("/")
    return path.endswith(FILE_ROUTES)


class Guard:
    """ASGI middleware in front of Gradio: refuses the upload routes, adds SECURITY_HEADERS."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if takes_files(scope["path"]):
            await PlainTextResponse(NO_FILES, status_code=403, headers=SECURITY_HEADERS)(scope, receive, send)
            return

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


def check_address(host: str, port: int) -> None:
    """IqtibasError, saying what to change, unless the page can listen on host:port."""
    try:
        family, kind, protocol, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except (socket.gaierror, UnicodeError):
        raise IqtibasError(f"cannot listen on {host}:{port}: {host!r} is not an address or name of this machine; "
                           f"give --host one, such as 127.0.0.1") from None
    with socket.socket(family, kind, protocol) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server itself binds
        try:
            probe.bind(address)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise IqtibasError(f"port {port} on {host} is in use: stop what uses it, or give --port "
                                   f"another port") from None
            raise IqtibasError(f"cannot listen on {host}:{port} ({error.strerror}): give --host an address of "
                               f"this machine, such as 127.0.0.1") from None


def launch(demo: gr.Blocks, config: Config, open_browser: bool = False) -> str:
    """Serve the page on config.host:config.port behind ``Guard``, without blocking; returns its URL.

    Gradio keeps the state of at most ``config.sessions`` visitors' sessions (its default, 10,000, let a
    server grow by about 400 MB).
    """
    check_address(config.host, config.port)
    release_memory()  # what loading the model and the index freed
    try:
        _, url, _ = demo.launch(
            server_name=config.host, server_port=config.port, share=False, inbrowser=open_browser, quiet=True,
            prevent_thread_lock=True, state_session_capacity=config.sessions,
            ssr_mode=False, num_workers=0,  # no Node proxy and no file workers in front of the guard
            # Gradio's run history copies every exchange, with the whole conversation, into the browser's
            # localStorage (up to 100 runs), rewriting it all with each reply: a visitor's questions would
            # stay on the machine, and the rewrite grows with the conversation.
            run_history=False,
            app_kwargs={"middleware": [Middleware(Guard)]},
            blocked_paths=[get_upload_folder()],  # files uploaded before the guard are not served back
        )
    except OSError as error:  # the port was taken after the check
        raise IqtibasError(f"cannot listen on {config.host}:{config.port} ({error}): give --port another "
                           f"port") from None
    return url
