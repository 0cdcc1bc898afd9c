"""Mapping rules of your own: plain Python, tested by
`python3 -m unittest` on this machine (the SDK itself runs only inside the
component)."""


def price_band(remote):
    """`premium` from 50 on, else `standard`: a field the API does not have."""
    try:
        price = float(remote.get("price") or 0)
    except (TypeError, ValueError):
        price = 0.0
    return {"price_band": "premium" if price >= 50 else "standard"}
