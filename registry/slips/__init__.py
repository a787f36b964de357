"""Registration slips: printed (A4 or an 80 mm receipt roll), signed by the office, checked at /verify.

The blueprint lives in `views.py`, so other domains can import the pure parts (labels, payload, render)
without pulling in the web layer.
"""
