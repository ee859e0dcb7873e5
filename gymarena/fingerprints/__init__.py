"""Behaviour fingerprints: a short golden rollout per task (and per built-in player) whose
observations, rewards, ends and infos are kept, summarised, as reference data in the package
(``data/<family>.json.gz``), keyed by the task and the versions it was recorded under.

Replayed here, a fingerprint says whether the installed simulator behaves like the one the
reference came from (``gymarena check``), and, for the code gymarena ships, whether its
behaviour changed under an unchanged version (the fingerprint test).
"""
