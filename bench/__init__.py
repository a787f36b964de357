"""Benchmarks: registration through the real HTTP stack, and person search at a million people.

`python -m bench` (or `make bench`) runs them and writes docs/benchmarks.md; `--quick` is a smaller run
for trying a change. Work files (databases, server logs, raw results) live in bench/.work/.
"""
