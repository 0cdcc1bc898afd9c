"""What `hello` answers: plain Python, tested by `python3 -m unittest` on
this machine (the SDK itself runs only inside the component)."""


def greet(greeting, payload):
    """The answer to `payload` (`{"name": …}`), greeting with `greeting`."""
    name = payload.get("name") or "world"
    return {"message": f"{greeting}, {name}!"}
