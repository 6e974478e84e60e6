"""Journeys: cross-partner paths probed as one synthetic transaction.

``runner`` runs one journey (steps in order, captures, failover, one trace per run) into a
pure-data :class:`~agent.journeys.result.JourneyResult`; ``blame`` says which hop made a bad
run bad; ``ceiling`` computes the best availability the path can reach from its hops; ``views``
puts SLOs, blame shares and the ceiling together for the API and the report; ``pipeline``
connects a run to the store and the metrics.
"""
