"""eval/: question–answer pairs, metrics, and the report of an evaluation run."""

from iqtibas.eval.evaluate import Report, calibrate_threshold, evaluate
from iqtibas.eval.machine import machine_info
from iqtibas.eval.metrics import percentile
from iqtibas.eval.pairs import DEFAULT_PAIRS, Pair, load_pairs
from iqtibas.eval.report import check_report_folder, markdown_table, robustness_table, summary_lines, write_report
from iqtibas.eval.sweep import sweep_settings

__all__ = ["DEFAULT_PAIRS", "Pair", "Report", "calibrate_threshold", "check_report_folder", "evaluate", "load_pairs",
           "machine_info", "markdown_table", "percentile", "robustness_table", "summary_lines", "sweep_settings", "write_report"]
