"""EV charging studies: demand profiles, grid impact and hosting capacity.

- :mod:`.profile`: Monte Carlo charging demand per site and policy (``gridplan ev profile``);
- :mod:`.impact`: the profiles through the time-series power flow (``gridplan ev impact``);
- :mod:`.hosting`: EV hosting capacity per feeder and transformer (``gridplan ev hosting``);
- :mod:`.batch`: one function per analysis for ``gridplan run`` (``(net, options, writer)``).
"""
