"""Build persona packs from your own anonymised dialogue logs ("bring your own business").

Pipeline: :mod:`.logs` (read and check JSONL) -> :mod:`.pii` (mask personal data) ->
:mod:`.extract` (one model call per dialogue: traits, cooperation 1-5, need) ->
:mod:`.aggregate` (one call per group of a level: a persona profile; P(need | category)) ->
:mod:`.pipeline` (orchestration and files). CLI: ``interactcs personas extract``.
"""

from interactcs.personas.logs import Dialogue, LogFormatError, LogTurn, load_logs, mask_dialogues
from interactcs.personas.pii import PII_KINDS, luhn_valid, mask_pii
from interactcs.personas.pipeline import (
    ExtractConfig,
    PersonaPack,
    abuild_pack,
    build_pack,
    dry_run_prompts,
    write_pack,
)

__all__ = [
    "PII_KINDS",
    "Dialogue",
    "ExtractConfig",
    "LogFormatError",
    "LogTurn",
    "PersonaPack",
    "abuild_pack",
    "build_pack",
    "dry_run_prompts",
    "load_logs",
    "luhn_valid",
    "mask_dialogues",
    "mask_pii",
    "write_pack",
]
