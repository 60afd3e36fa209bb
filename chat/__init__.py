"""chat/: answers that quote the article, rendered for the terminal and the chat page."""

from iqtibas.chat.answer import answer

__all__ = ["answer", "build_app"]


def __getattr__(name):
    # build_app imports Gradio, which takes seconds; only the chat page should pay for it.
    if name == "build_app":
        from iqtibas.chat.app import build_app

        return build_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
