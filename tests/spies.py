"""Spies shared by the check tests (not a test module; mutmut copies tests/ whole)."""


def record_calls(monkeypatch, owner, name):
    """Replace ``owner.name`` by a wrapper that records ``(args, result)`` of every call."""
    calls, real = [], getattr(owner, name)

    def wrapper(*args, **kwargs):
        out = real(*args, **kwargs)
        calls.append((args, out))
        return out
    monkeypatch.setattr(owner, name, wrapper)
    return calls
