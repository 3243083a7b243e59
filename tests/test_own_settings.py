"""A person's own settings (people/settings.py) over a memory store and a small host:
which settings are a person's, what is kept, what a submit is given, and what the
owner's narrowing in Settings does."""

import pytest

from webui_taskqueue.intake.fields import Setting
from webui_taskqueue.people.settings import OWN, NotPersonal, PageSettings, Personal
from webui_taskqueue.records.errors import PayloadError
from webui_taskqueue.records.users import Role, User
from webui_taskqueue.store.memory import MemoryStore

TITLES = {"a": "a.safetensors [aaaa]", "b": "b.safetensors [bbbb]"}


class Host:
    def __init__(self, options=None):
        self.options = {"sd_model_checkpoint": TITLES["a"], "CLIP_stop_at_last_layers": 1, "samples_format": "png",
                        "tiling": False, "quicksettings_list": ["sd_model_checkpoint", "tiling"], **(options or {})}
        self.checkpoints = dict(TITLES)

    def option(self, name, default):
        return self.options.get(name, default)

    def setting(self, name):
        if name in ("sd_model_checkpoint", "sd_vae"):
            return Setting(default=None if name == "sd_model_checkpoint" else "Automatic", value=self.options.get(name))
        if name == "CLIP_stop_at_last_layers":
            return Setting(default=1, minimum=1, maximum=12, step=1, value=self.options[name])
        if name in self.options:
            return Setting(default=self.options[name], value=self.options[name])
        return None

    def default_checkpoint(self):
        return self.options["sd_model_checkpoint"]

    def resolve_checkpoint(self, name):
        return next((t for k, t in self.checkpoints.items() if name in (k, t, t.split(" [")[0])), None)

    def resolve_vae(self, name):
        return name if name in ("Automatic", "None", "vae.pt") else None


ANN = User("ann", Role.USER)
BOSS = User("boss", Role.ADMIN)


def make(options=None):
    host = Host(options)
    return Personal(MemoryStore(), host), host


def test_a_person_keeps_the_three_and_the_quick_settings_an_admin_keeps_none():
    personal, _ = make()
    assert personal.keys() == ["sd_model_checkpoint", "sd_vae", "CLIP_stop_at_last_layers", "tiling"]
    assert personal.applies(ANN) and not personal.applies(BOSS)
    with pytest.raises(NotPersonal):
        personal.change(BOSS, {"sd_model_checkpoint": "b"})


def test_the_owner_narrows_the_list():
    personal, _ = make({OWN: "sd_model_checkpoint, CLIP_stop_at_last_layers"})
    assert personal.keys() == ["sd_model_checkpoint", "CLIP_stop_at_last_layers"]
    with pytest.raises(NotPersonal) as refused:
        personal.change(ANN, {"tiling": True})
    assert refused.value.problems[0][0] == "tiling"


def test_a_change_is_kept_resolved_and_a_null_gives_the_box_s_back():
    personal, _ = make()
    own = personal.change(ANN, {"sd_model_checkpoint": "b", "CLIP_stop_at_last_layers": 2.0})
    assert own.values == {"sd_model_checkpoint": TITLES["b"], "CLIP_stop_at_last_layers": 2}
    assert type(own.values["CLIP_stop_at_last_layers"]) is int  # 2.0 as a client read it from webui
    assert personal.shown(ANN)["tiling"] is False  # not set: the box's
    personal.change(ANN, {"sd_model_checkpoint": None})
    assert personal.shown(ANN)["sd_model_checkpoint"] == TITLES["a"]
    assert personal.own(ANN).values == {"CLIP_stop_at_last_layers": 2}


def test_bad_values_are_named_and_nothing_is_kept():
    personal, _ = make()
    with pytest.raises(PayloadError) as bad:
        personal.change(ANN, {"sd_model_checkpoint": "nope", "CLIP_stop_at_last_layers": 40, "sd_vae": "vae.pt"})
    assert [e["loc"][-1] for e in bad.value.errors] == ["sd_model_checkpoint", "CLIP_stop_at_last_layers"]
    assert personal.own(ANN).values == {}


def test_a_submit_gets_the_person_s_values_where_it_names_none():
    personal, _ = make()
    personal.change(ANN, {"sd_model_checkpoint": "b", "sd_vae": "vae.pt", "CLIP_stop_at_last_layers": 2})
    filled = personal.fill(ANN, {"prompt": "x"})
    assert filled == {"prompt": "x", "checkpoint": TITLES["b"], "vae": "vae.pt",
                      "override_settings": {"CLIP_stop_at_last_layers": 2}}
    named = personal.fill(ANN, {"checkpoint": "a", "override_settings": {"CLIP_stop_at_last_layers": 3}})
    assert named["checkpoint"] == "a" and named["override_settings"] == {"CLIP_stop_at_last_layers": 3}
    assert personal.fill(BOSS, {"prompt": "x"}) == {"prompt": "x"}


def test_a_checkpoint_gone_from_disk_gives_way_to_the_box_s_with_a_note():
    personal, host = make()
    personal.change(ANN, {"sd_model_checkpoint": "b"})
    del host.checkpoints["b"]
    own = personal.own(ANN)
    assert own.values == {} and "b.safetensors" in own.notes["sd_model_checkpoint"]
    assert personal.fill(ANN, {"prompt": "x"}) == {"prompt": "x"}


def test_a_login_s_first_change_makes_them_a_user_and_the_page_hears_refusals_as_messages():
    personal, _ = make()
    page = PageSettings(personal)
    assert page.own(None) is None and page.own("ann") == {}
    assert page.change("ann", {"sd_model_checkpoint": "b"}) == {"sd_model_checkpoint": TITLES["b"]}
    assert personal.store.get_user("ann").role == Role.USER
    with pytest.raises(ValueError, match="samples_format"):
        page.change("ann", {"samples_format": "jpg"})
    with pytest.raises(ValueError, match="sd_model_checkpoint: no checkpoint"):
        page.change("ann", {"sd_model_checkpoint": "nope"})
    personal.store.add_user(User("boss", Role.ADMIN))
    assert page.own("boss") is None  # an admin: webui's own handlers
