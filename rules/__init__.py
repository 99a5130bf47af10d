"""The timescales as data, the working-day calendar and the deadline engine.

Pure: no I/O beyond reading its own packaged data files, no clock, and no
imports from the project's other packages.
"""
