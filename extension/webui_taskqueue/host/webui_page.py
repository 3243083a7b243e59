"""webui's own page, shared: who is logged in (`--gradio-auth`), and the settings a
person keeps for themselves on it.

webui wires its quick settings (the checkpoint, VAE, CLIP skip row at the top), the
values a page shows when it loads, and the Settings tab's "Apply settings" to handlers
that change the box's settings for everyone. Here each of those handlers is wrapped, in
place, by one that knows the caller (gradio hands a `gr.Request`, whose `username` is
the login): a person's change is kept as theirs (`Page.change`), their page loads with
their values, and everyone else's stays as it was. An admin of the queue, or anyone on
a page without logins, gets webui's own handler. A Generate from the page then runs
with the person's values as its `override_settings` (`before_process`).

The handlers are found by what webui gives their components (`elem_id`
"setting_<key>", "settings_result"), the same in gradio 3 (webui) and 4 (Forge)."""

from __future__ import annotations

import html
import json
from typing import Any, Callable, Dict, Iterable, List, Optional, Protocol

SETTING = "setting_"
RESULT = "settings_result"


class Page(Protocol):
    """What the page asks of the queue, by login name."""

    def own(self, name: Optional[str]) -> Optional[Dict[str, Any]]:
        """The person's own values (only those they set); None: not a person (an
        admin, or no login): webui's own handlers apply."""

    def keys(self) -> List[str]:
        """The settings people keep for themselves."""

    def notes(self, name: Optional[str]) -> Dict[str, str]:
        """Why a value of the person's is not used now (the box's is), by setting."""

    def change(self, name: str, changes: Dict[str, Any]) -> Dict[str, Any]:
        """Keep `changes` as the person's; ValueError(message) when refused (nothing kept).
        -> their values as resolved."""


_page: Optional[Page] = None  # the running queue's: the Generate hook reads it


def share(demo: Any, page: Page, options: Any, dumpjson: Callable[[], str],
          shown: Callable[[str, Any], Any] = lambda key, value: value,
          controls: Optional[Dict[str, Any]] = None) -> int:
    """Wrap webui's settings handlers on `demo` (once per built page; a UI reload
    builds a new one). `options`: webui's `shared.opts`; `shown(key, value)`: a
    person's value as the page's control lists it (a checkpoint menu's entry);
    `controls`: setting key -> component, for controls that carry no
    "setting_<key>" elem_id (Forge's own model controls). -> how many were wrapped."""
    global _page
    _page = page
    import gradio as gr

    by_block = {id(component): key for key, component in (controls or {}).items()}

    def key_of(block: Any) -> Optional[str]:
        return by_block.get(id(block)) or _key(block)

    wrapped = 0
    for fn in _functions(demo):
        if fn.fn is None or getattr(fn.fn, "_task_queue", False):
            continue
        inputs, outputs = _blocks(demo, fn.inputs), _blocks(demo, fn.outputs)
        keys_out = [key_of(b) for b in outputs]
        original = fn.fn
        if outputs and any(_elem_id(b) == RESULT for b in outputs):
            replacement = _apply(original, [key_of(b) for b in inputs], page, options, dumpjson, gr)
        elif not inputs and outputs and all(keys_out):
            replacement = _load(original, keys_out, page, shown, gr)
        elif inputs and key_of(inputs[0]) and (not outputs or keys_out[0] == key_of(inputs[0])):
            replacement = _quick(original, key_of(inputs[0]), len(outputs), page, options, dumpjson, shown, gr)
        else:
            continue
        replacement.__annotations__ = {"request": gr.Request}  # gradio hands the caller's request
        replacement._task_queue = True
        fn.fn = replacement
        wrapped += 1
    return wrapped


def before_process(p: Any) -> None:
    """A job from webui's page (webui sets `p.user` to the login): the person's own
    values for the settings the job does not set itself."""
    name = getattr(p, "user", None)
    if _page is None or not name:
        return
    own = _page.own(name)
    if not own:
        return
    if getattr(p, "override_settings", None) is None:
        p.override_settings = {}
    for key, value in own.items():
        p.override_settings.setdefault(key, value)


def login_name(app: Any, cookies: Dict[str, str]) -> Optional[str]:
    """The name logged in to webui's page whose session cookie this is (gradio 3
    names it access-token, gradio 4 access-token-<cookie id>), or None."""
    tokens = getattr(app, "tokens", None)
    if not tokens:
        return None
    suffix = f"-{app.cookie_id}" if getattr(app, "cookie_id", None) else ""
    for name in (f"access-token{suffix}", f"access-token-unsecure{suffix}"):
        token = cookies.get(name)
        if token and token in tokens:
            return tokens[token]
    return None


# ---- the handlers ----------------------------------------------------------------------------

def _quick(original: Callable, key: str, outputs: int, page: Page, options: Any, dumpjson, shown, gr) -> Callable:
    """A setting's control changed on the page (webui's quick settings row, its hidden
    "Change checkpoint" button, Forge's model controls): the person's own, or the
    box's for everyone else. `outputs`: what the handler answers (webui: the control
    and the settings' JSON; Forge: nothing)."""

    def answer(own: Dict[str, Any], value: Any):
        if not outputs:
            return None
        return gr.update(value=shown(key, own.get(key, value))), _json(dumpjson, own)

    def quick_setting(request, value, *rest):
        name = getattr(request, "username", None)
        own = page.own(name)
        if own is None:
            return original(value, *rest)
        current = own.get(key, getattr(options, key, None))
        if value is None or _same(current, value) or _same(shown(key, current), value):  # as it was (a load's echo)
            return answer(own, current)
        if key not in page.keys():
            raise gr.Error(f"{key} is the box's setting: only an admin of the queue may change it")
        try:
            own = page.change(name, {key: value})
        except ValueError as e:
            raise gr.Error(str(e)) from None
        return answer(own, value)

    return quick_setting


def _load(original: Callable, keys: List[str], page: Page, shown, gr) -> Callable:
    """A page loads (or a control's value is read on load): the settings controls show
    the person's values."""

    def settings_values(request):
        values = original()
        name = getattr(request, "username", None)
        own = page.own(name)
        notes = page.notes(name) if own is not None else {}
        if not own and not notes:
            return values
        out = list(values) if len(keys) > 1 else [values]  # one output: its value alone
        for index, key in enumerate(keys):
            update = out[index] if isinstance(out[index], dict) else gr.update(value=out[index])
            if key in own:
                out[index] = {**update, "value": shown(key, own[key])}
            elif key in notes:  # theirs no longer holds: the box's, saying so under the control
                out[index] = {**update, "info": notes[key]}
        return out if len(keys) > 1 else out[0]

    return settings_values


def _apply(original: Callable, keys: List[Optional[str]], page: Page, options: Any, dumpjson, gr) -> Callable:
    """The Settings tab's "Apply settings": a person's changes to their own settings
    are kept as theirs; a change to any other is refused, and nothing is kept."""

    def apply_settings(request, *values):
        name = getattr(request, "username", None)
        own = page.own(name)
        if own is None:
            return original(*values)
        personal = set(page.keys())
        changed: Dict[str, Any] = {}
        for key, value in zip(keys, values):
            if key is None:
                continue
            now = own.get(key, getattr(options, key, None))
            if value is not None and not _same(now, value):
                changed[key] = value
        refused = sorted(k for k in changed if k not in personal)
        if refused:
            message = (f"Not applied: {', '.join(refused)} {'is' if len(refused) == 1 else 'are'} the box's, "
                       f"which only an admin of the queue may change. Yours: {', '.join(sorted(personal))}.")
            return _json(dumpjson, own), f"<div class='error'>{html.escape(message)}</div>"
        if not changed:
            return _json(dumpjson, own), "0 settings changed."
        try:
            own = page.change(name, changed)
        except ValueError as e:
            return _json(dumpjson, own), f"<div class='error'>{html.escape(str(e))}</div>"
        return _json(dumpjson, own), f"{len(changed)} of your own settings changed: {', '.join(sorted(changed))}."

    return apply_settings


# ---- gradio 3 and 4 ----------------------------------------------------------------------------

def _functions(demo: Any) -> Iterable[Any]:
    fns = getattr(demo, "fns", None) or []
    return list(fns.values()) if isinstance(fns, dict) else list(fns)


def _blocks(demo: Any, items: Iterable[Any]) -> List[Any]:
    """Components, whether a BlockFunction holds them (gradio 3 and 4) or their ids."""
    out = []
    for item in items or []:
        out.append(demo.blocks.get(item) if isinstance(item, int) else item)
    return out


def _elem_id(block: Any) -> Optional[str]:
    return getattr(block, "elem_id", None)


def _key(block: Any) -> Optional[str]:
    elem_id = _elem_id(block) or ""
    return elem_id[len(SETTING):] if elem_id.startswith(SETTING) else None


def _json(dumpjson: Callable[[], str], own: Dict[str, Any]) -> str:
    """webui's settings as its page's scripts read them, with the person's own."""
    data = json.loads(dumpjson())
    data.update(own)
    return json.dumps(data)


def _same(now: Any, value: Any) -> bool:
    if isinstance(now, bool) or isinstance(value, bool):
        return now is value
    if isinstance(now, (int, float)) and isinstance(value, (int, float)):
        return float(now) == float(value)
    return now == value

