"""Spies shared by the check tests (not a test module; mutmut copies tests/ whole)."""
import copy


def record_calls(monkeypatch, owner, name):
    """Replace ``owner.name`` by a wrapper that records ``(args, result)`` of every call."""
    calls, real = [], getattr(owner, name)

    def wrapper(*args, **kwargs):
        out = real(*args, **kwargs)
        calls.append((args, out))
        return out
    monkeypatch.setattr(owner, name, wrapper)
    return calls


def record_calls_with_generator(monkeypatch, owner, name):
    """Replace ``owner.name(rng, ...)`` by a wrapper that records ``(copy of rng before the
    call, result)``: the copy replays the draws the call made."""
    calls, real = [], getattr(owner, name)

    def wrapper(rng, *args, **kwargs):
        twin = copy.deepcopy(rng)
        out = real(rng, *args, **kwargs)
        calls.append((twin, out))
        return out
    monkeypatch.setattr(owner, name, wrapper)
    return calls
