"""The built-in demo: a simulated ecosystem of nodes that misbehave on a fixed schedule.

- :mod:`agent.demo.faults`: the fault schedule, as pure data and pure functions of time;
- :mod:`agent.demo.sites`: what each demo node answers when healthy;
- :mod:`agent.demo.ecosystem`: loopback HTTP servers serving the nodes, faults applied;
- :mod:`agent.demo.templates`: the bundled demo specs, rendered for the running servers.
"""
