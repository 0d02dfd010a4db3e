"""Detection quality on real labelled data: NAB, SKAB, Tennessee Eastman, UCSD Ped2, URFD.

Each dataset module loads its files (never copied into the repository), runs riskstream's
detectors next to a baseline in the same run, and returns a result dict; ``report`` writes
``benchmarks/results/quality.json`` and a Markdown table, ``plots`` the PNGs.
"""
