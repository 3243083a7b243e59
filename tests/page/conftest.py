"""Browser tests of webui's own page, shared by people who log in (--gradio-auth): the
stand-in's page (tests/standin/page.py, built with gradio as webui or Forge pins it)
in Debian's chromium. Run with `nox -s page` (both gradio versions). They skip when
gradio, playwright or chromium is missing (fail instead with E2E_REQUIRED=1)."""

import json
import os
import sys

import pytest

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)

from browser import browser, expect, skip_unless_ready  # noqa: E402,F401 (a fixture)
from contract.client import QueueClient, StandIn  # noqa: E402

ADMIN_KEY = "tq_page-admin-key-0123456789abcdef"
LOGINS = {"alice": "pw-alice", "bob": "pw-bob", "owner": "pw-owner"}
QUICK = ["sd_model_checkpoint", "sd_vae", "CLIP_stop_at_last_layers"]  # webui's quick settings as people use them


def pytest_runtest_setup(item):
    try:
        import gradio  # noqa: F401
    except ImportError:
        skip_unless_ready("page tests: gradio is not installed (nox -s page installs webui's or Forge's)")
    skip_unless_ready()


@pytest.fixture
def webui(tmp_path):
    """The stand-in with webui's page, three logins (owner is an admin of the queue) and
    the quick settings row of checkpoint, VAE and CLIP skip; its admin client."""
    server = StandIn(tmp_path / "server", step_seconds=0.01, admin_key=ADMIN_KEY,
                     extra_args=["--page", "--gradio-auth", ",".join(f"{k}:{v}" for k, v in LOGINS.items())])
    with open(os.path.join(server.data_dir, "config.json"), "w") as f:
        json.dump({"quicksettings_list": QUICK}, f)
    server.start(timeout=120)
    admin = server.client()
    r = admin.post("/queue/v1/users", json={"name": "owner", "role": "admin"})
    assert r.status_code == 201, r.text
    yield server, admin
    server.stop()


@pytest.fixture
def login(browser, webui):
    """login(name) -> that person's page, logged in, in a browser context of its own."""
    server, _ = webui
    contexts = []

    def open_as(name):
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)
        return WebuiPage(context.new_page(), server.url).login(name, LOGINS[name])

    yield open_as
    for context in contexts:
        context.close()


class WebuiPage:
    """webui's page as a person uses it."""

    def __init__(self, page, url):
        self.page, self.url = page, url

    def login(self, name, password):
        self.page.goto(self.url)
        self.page.locator("input").first.fill(name)
        self.page.locator("input[type=password]").fill(password)
        self.page.get_by_role("button", name="Login").click()
        return self.ready()

    def ready(self):
        self.page.wait_for_selector("#setting_sd_model_checkpoint input", timeout=30000)
        self.page.wait_for_load_state("networkidle")
        return self

    def reload(self):
        self.page.reload()
        return self.ready()

    def tab(self, name):
        self.page.locator(".tab-nav button", has_text=name).first.click()

    def setting(self, key):
        return self.page.locator(f"#setting_{key} input").first

    def shown(self, key):
        return self.setting(key).input_value()

    def pick(self, key, text):
        """A choice in a dropdown setting, as a person clicks it."""
        self.setting(key).click()
        self.page.locator("ul.options li", has_text=text).first.click()
        self.page.wait_for_load_state("networkidle")
        self.page.wait_for_timeout(300)  # the change event's round trip

    def slide(self, key, value):
        """A slider setting, typed into its number box (gradio applies it on blur)."""
        box = self.page.locator(f"#setting_{key} input[type=number]")
        box.fill(str(value))
        box.press("Tab")
        self.page.wait_for_load_state("networkidle")
        self.page.wait_for_timeout(300)

    def generate(self, prompt, steps=3):
        """Generate on the txt2img tab; -> the generation info as the page shows it."""
        self.tab("txt2img")
        self.page.locator("#txt2img_prompt textarea").fill(prompt)
        steps_box = self.page.locator("#txt2img_steps input[type=number]")
        steps_box.fill(str(steps))
        steps_box.press("Tab")
        info = self.page.locator("#html_info_txt2img p")
        before = info.inner_text() if info.count() else ""
        self.page.locator("#txt2img_generate").click()
        expect(info).not_to_have_text(before or "-", timeout=60000)
        expect(info).to_contain_text(prompt, timeout=60000)
        return info.inner_text()


def model_in(infotext):
    for part in infotext.split("\n")[-1].split(", "):
        if part.startswith("Model: "):
            return part[len("Model: "):]
    return None


__all__ = ["QueueClient", "WebuiPage", "expect", "model_in"]
