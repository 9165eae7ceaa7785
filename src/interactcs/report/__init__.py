"""Reports: PNG figures (:mod:`.plots`) and one self-contained HTML page with summary tables,
figures and a trajectory viewer (:mod:`.html`, ``interactcs report DIR``).

Submodules are imported on use so ``import interactcs.report`` stays cheap (no matplotlib).
"""
