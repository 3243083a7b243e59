"""webui's saved styles (modules/styles.py, v1.10.1): a style's prompt goes into the
task's prompt at `{prompt}`, or after it; with several styles files a '---- NAME ----'
divider with no prompt (path "do_not_save") heads each file's styles in the menu, and
applying one raises TypeError, as in webui."""

import collections

PromptStyle = collections.namedtuple("PromptStyle", ["name", "prompt", "negative_prompt", "path"])


def merge_prompts(style_prompt: str, prompt: str) -> str:
    if "{prompt}" in style_prompt:
        return style_prompt.replace("{prompt}", prompt)
    return ", ".join(filter(None, (prompt.strip(), style_prompt.strip())))


def apply_styles_to_prompt(prompt, styles):
    for style in styles:
        prompt = merge_prompts(style, prompt)
    return prompt


class StyleDatabase:
    def __init__(self, files):
        """`files`: {file stem: [PromptStyle, ...]}, as webui reads them from its styles files."""
        self.no_style = PromptStyle("None", "", "", None)
        self.styles = {}
        for stem, styles in files.items():
            if len(files) > 1:
                divider = f" {stem.upper()} ".center(40, "-")
                self.styles[divider] = PromptStyle(divider, None, None, "do_not_save")
            self.styles.update((s.name, s) for s in styles)

    def apply_styles_to_prompt(self, prompt, styles):
        return apply_styles_to_prompt(prompt, [self.styles.get(x, self.no_style).prompt for x in styles])

    def apply_negative_styles_to_prompt(self, prompt, styles):
        return apply_styles_to_prompt(prompt, [self.styles.get(x, self.no_style).negative_prompt for x in styles])
