"""The served OpenAPI document gives every answer each route of the queue really
gives, with the body of each error: a client generated from it handles them all.
(test_fuzz.py checks the answers given against it; this checks the document.)"""

import pytest

Q = "/queue/v1"
# route -> the answers besides 401 and 503, which every route gives (no key, a wrong
# key; the queue's Redis server away), and 429, which every read gives (over its
# person's reads per second).
# FastAPI documents a 422 for every route with parameters, even when they are text.
ANSWERS = {
    ("post", "/txt2img"): {202, 413, 415, 422, 429},
    ("post", "/img2img"): {202, 413, 415, 422, 429},
    ("get", "/tasks"): {200, 422},
    ("get", "/tasks/{task_id}"): {200, 304, 404, 422},
    ("patch", "/tasks/{task_id}"): {200, 403, 404, 409, 413, 415, 422},
    ("delete", "/tasks/{task_id}"): {204, 404, 409, 422},
    ("get", "/tasks/{task_id}/preview"): {200, 204, 304, 404, 422},
    ("get", "/tasks/{task_id}/images/{index}"): {200, 404, 422},
    ("get", "/tasks/{task_id}/images/{index}/thumb"): {200, 404, 422},
    ("get", "/tasks/{task_id}/inputs/{index}"): {200, 404, 422},
    ("post", "/tasks/{task_id}/interrupt"): {200, 404, 409, 422},
    ("post", "/tasks/{task_id}/move"): {200, 404, 409, 413, 415, 422},
    ("get", "/queue"): {200, 304, 422},
    ("post", "/queue/pause"): {200, 403},
    ("post", "/queue/resume"): {200, 403},
    ("get", "/checkpoints"): {200},
    ("get", "/health"): {200},
    ("get", "/boxes"): {200},
    ("get", "/me"): {200},
    ("post", "/users"): {201, 403, 409, 413, 415, 422},
    ("get", "/users"): {200, 403},
    ("get", "/users/{name}"): {200, 403, 404, 422},
    ("patch", "/users/{name}"): {200, 403, 404, 409, 413, 415, 422},
    ("delete", "/users/{name}"): {204, 403, 404, 409, 422},
    ("post", "/users/{name}/keys"): {201, 403, 404, 422},
    ("delete", "/users/{name}/keys/{prefix}"): {204, 403, 404, 422},
}
MESSAGE = {401, 403, 404, 409, 503}  # {"detail": "a sentence"}
PROBLEMS = {413, 415, 422, 429}  # {"detail": [{"loc", "msg", "type"}, ...]}
# a read's 429 (over its person's reads per second) is a message: it names no field


@pytest.fixture(scope="module")
def openapi(target):
    r = target.get("/openapi.json")
    assert r.status_code == 200, r.text[:300]
    return r.json()


def operations(openapi):
    for path, item in openapi["paths"].items():
        if path.startswith(Q):
            for method, operation in item.items():
                if method in ("get", "post", "put", "patch", "delete"):
                    yield method, path[len(Q):], operation


def schema_of(openapi, response):
    schema = response["content"]["application/json"]["schema"]
    name = schema["$ref"].rsplit("/", 1)[-1]
    return name, openapi["components"]["schemas"][name]


@pytest.mark.parametrize("route", sorted(ANSWERS), ids=[f"{m.upper()} {p}" for m, p in sorted(ANSWERS)])
def test_route_documents_every_answer_it_gives(openapi, route):
    method, path = route
    operation = openapi["paths"][Q + path][method]
    assert {int(s) for s in operation["responses"]} == ANSWERS[route] | {401, 503} | ({429} if method == "get" else set())


def test_every_route_of_the_queue_documents_401(openapi):
    """Routes added later than this table too: each answers 401 to a wrong key."""
    for method, path, operation in operations(openapi):
        assert "401" in operation["responses"], (method, path)


def test_every_error_answer_has_its_body_schema(openapi):
    for method, path, operation in operations(openapi):
        for status, response in operation["responses"].items():
            if not status.isdigit() or int(status) < 400:
                continue
            name, schema = schema_of(openapi, response)
            if int(status) in MESSAGE or (method == "get" and status == "429"):
                assert schema["properties"]["detail"]["type"] == "string", (method, path, status, name)
            else:
                assert int(status) in PROBLEMS, (method, path, status)
                item = schema["properties"]["detail"]["items"]
                problem = openapi["components"]["schemas"][item["$ref"].rsplit("/", 1)[-1]]
                assert {"loc", "msg", "type"} <= set(problem["required"]), (method, path, status, name)
            assert response["description"], (method, path, status)


def test_request_bodies_say_what_is_refused(openapi):
    """Bounds, multiples and unknown fields are in the document, so that a client
    (and the fuzzer's "data that breaks the document") knows them."""
    body = openapi["paths"][f"{Q}/txt2img"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["additionalProperties"] is False
    width = body["properties"]["width"]
    assert width["minimum"] == 64 and width["multipleOf"] == 8 and width["maximum"] >= 64
    seed = body["properties"]["seed"]  # (FastAPI before pydantic 2 writes 2**64 - 1 as the float 1.8446744073709552e19)
    assert seed["type"] in ("integer", ["integer", "null"]) and seed["minimum"] == -1
    assert seed["maximum"] in (2**64 - 1, float(2**64 - 1))
    assert body["properties"]["prompt"]["maxLength"] == 65_536  # null: webui's default (3.0: nullable, 3.1: a type)
    assert body["properties"]["prompt"].get("nullable") or "null" in body["properties"]["prompt"]["type"]
    assert body["properties"]["denoising_strength"]["maximum"] == 1
    users = openapi["paths"][f"{Q}/users"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert users["additionalProperties"] is False and "name" in users["required"]
