"""Names of the per-dialogue fields the agent loop writes into verl's ``extra_fields``.

One dict per dialogue travels from the agent loop (rollout worker) to the trainer (driver)
through verl's TransferQueue. Per-turn lists hold one entry per agent turn that produced at
least one token, in dialogue order; turn ``t`` is the ``t``-th run of 1s in the sample's
``response_mask``.

- ``ics_turn_ends`` list[int]: exclusive end offset of each agent turn in the response tokens.
- ``ics_process`` list[float | None]: process (judge) score per turn in [0, 1]; None = unjudged.
- ``ics_costs`` list[list[float]]: (T, K) cost charged at each turn, columns ``ics_cost_names``.
- ``ics_cost_names`` list[str]: the K cost types, e.g. ``["voucher"]``.
- ``ics_outcome`` float: normalised outcome (S − 1)/4, 0 when the user never ended it (it is
  also the sample's ``reward_score``, so verl puts it on the last response token).
- ``ics_satisfaction`` int | None, ``ics_end_reason`` str, ``ics_voucher`` bool,
  ``ics_finished`` bool, ``ics_scenario_id`` str, ``ics_agent_turns`` int: for logging.
"""

from __future__ import annotations

TURN_ENDS = "ics_turn_ends"
PROCESS = "ics_process"
COSTS = "ics_costs"
COST_NAMES = "ics_cost_names"
OUTCOME = "ics_outcome"
SATISFACTION = "ics_satisfaction"
END_REASON = "ics_end_reason"
VOUCHER = "ics_voucher"
FINISHED = "ics_finished"
SCENARIO_ID = "ics_scenario_id"
AGENT_TURNS = "ics_agent_turns"

#: verl registry names used by this integration.
AGENT_LOOP_NAME = "interactcs_fds"
ESTIMATOR_NAME = "cmpo"
TRAINER_MODE = "interactcs_cmpo"
