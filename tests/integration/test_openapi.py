"""The OpenAPI document the API serves (behind the API key) lists every route with its answer and its errors,
and the Swagger UI page serves it."""

import json
import re
from pathlib import Path

from embedded.system import LocalSystem
from tests.integration.conftest import KEY_A

DOCS = "/api/client/v1/docs"
ROUTE = re.compile(r'^@router\.(get|post|delete|put)\((?:f?"([^"]+)"|(\w+))')
API = Path(__file__).resolve().parents[2] / "functions" / "api"


def _declared_routes() -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """Every route the api's route modules declare, as OpenAPI writes it (`/v1/files/{file_id}`): the API's, and
    those declared `include_in_schema=False` (the watch page's files, which are not API routes)."""
    documented, hidden = set(), set()
    for module in API.glob("*_routes.py"):
        constants = dict(re.findall(r'^([A-Z_]+) = "([^"]+)"', module.read_text(), re.M))
        for line in module.read_text().splitlines():
            match = ROUTE.match(line)
            if match:
                path = match.group(2) or constants[match.group(3)]
                for name, value in constants.items():
                    path = path.replace("{" + name + "}", value)
                route = (match.group(1), re.sub(r"<(\w+)>", r"{\1}", path))
                (hidden if "include_in_schema=False" in line else documented).add(route)
    return documented, hidden


def test_the_served_document_lists_every_route_with_its_answer_and_error_shapes(system: LocalSystem) -> None:
    answer = system.request("GET", DOCS, key=KEY_A, query="format=json")
    spec = json.loads(answer.body)

    served = {(method, path) for path, item in spec["paths"].items() for method in item}
    documented, hidden = _declared_routes()
    assert answer.status == 200 and served == documented and not served & hidden
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            success = {status for status in operation["responses"] if status.startswith("2")}
            assert success, (method, path)
            error = operation["responses"]["400"]["content"]["application/json"]["schema"]["$ref"]
            expected = "OpenAIError" if path.startswith("/v1/") else "ConsoleError"
            assert error.endswith(expected), (method, path, error)
    create = spec["paths"]["/v1/batches"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("OpenAICreateBatch")
    assert "201" in spec["paths"]["/api/client/v1/batches"]["post"]["responses"]
    assert spec["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"


def test_the_swagger_page_is_served_behind_the_api_key(system: LocalSystem) -> None:
    page = system.request("GET", DOCS, key=KEY_A)

    assert page.status == 200 and page.headers["content-type"].startswith("text/html")
    assert b"SwaggerUIBundle" in page.body and b"Serverless Batch API" in page.body
    assert system.request("GET", DOCS, key=None).status == 401
