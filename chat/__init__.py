"""chat/: answers that quote the article, rendered for the terminal and the chat page."""

from iqtibas.chat.answer import answer, sentence_candidates

__all__ = ["answer", "build_app", "check_address", "launch", "sentence_candidates"]


def __getattr__(name):
    # build_app imports Gradio, which takes seconds; only the chat page should pay for it.
    if name in ("build_app", "check_address", "launch"):
        from iqtibas.chat import app

        return getattr(app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
