"""webui's request model -> the fields the queue checks and documents, pydantic 1 or 2."""

from typing import Any, Dict, List, Optional

from pydantic import Field, create_model

from webui_taskqueue.intake.fields import from_model, json_type


def test_types_are_read_from_the_annotations_webui_gives():
    assert [json_type(t) for t in (Optional[int], Optional[float], Optional[bool], Optional[str])] == \
        ["integer", "number", "boolean", "string"]
    assert json_type(Optional[list[str]]) == json_type(List[str]) == "array:string"
    assert json_type(Optional[list]) == "array" and json_type(Optional[Dict[str, Any]]) == json_type(dict) == "object"
    assert json_type(Optional[Any]) == json_type(Optional["Image"]) == "any"  # (an unresolved name)


def test_a_model_as_webui_builds_it_gives_its_fields_defaults_and_the_queues_own():
    model = create_model("StableDiffusionProcessingTxt2Img",
                         steps=(Optional[int], Field(default=50, alias="steps")),
                         styles=(Optional[list[str]], Field(default=None, alias="styles")),
                         script_args=(list, Field(default=[], alias="script_args")),
                         sampler_index=(str, Field(default="Euler", alias="sampler_index")))
    fields = from_model(model)
    assert {k: (f.type, f.default) for k, f in fields.items()} == {
        "steps": ("integer", 50), "styles": ("array:string", None), "script_args": ("array", []),
        "sampler_index": ("string", "Euler"), "checkpoint": ("string", None), "vae": ("string", None)}
    fields["script_args"].default.append(1)  # a copy: the model's own default stays as webui made it
    assert from_model(model)["script_args"].default == []
    assert fields["checkpoint"].description and fields["sampler_index"].description
