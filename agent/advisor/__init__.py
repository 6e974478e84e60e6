"""The operate-or-orchestrate advisor: from measured signals to scores, a recommendation with
its evidence, and hysteresis so one incident never flips it.

Pure: no I/O and no clock; time is an argument. Reading the store and scheduling fallback
drills live in :mod:`agent.runtime` (``advice``, ``drills``).

- :mod:`agent.advisor.policy`: ``DecisionPolicy``, the thresholds and weights as data;
- :mod:`agent.advisor.signals`: measured signals per node from the evidence handed in;
- :mod:`agent.advisor.scores`: the four framework axes plus resilience, 1-5 each;
- :mod:`agent.advisor.recommend`: ``keep``, ``review: operate``, ``review: orchestrate`` or
  ``reroute``, with reasons that quote their figures;
- :mod:`agent.advisor.hysteresis`: a flag needs its signal sustained; it clears the same way;
- :mod:`agent.advisor.review`: all of it for a spec set at one moment.
"""
