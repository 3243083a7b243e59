"""Is an answer one that the served OpenAPI document gives for its route?"""

import re
from urllib.parse import urlsplit

PREFIX = "/queue/v1"


class Document:
    def __init__(self, openapi):
        self.openapi = openapi
        self.routes = []  # (regex of the path, template)
        for template in openapi["paths"]:
            if template.startswith(PREFIX):
                pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
                self.routes.append((re.compile(f"^{pattern}$"), template))
        # most literal first: /tasks/{task_id}/move before /tasks/{task_id}
        self.routes.sort(key=lambda r: r[1].count("{"))

    def template(self, path):
        for regex, template in self.routes:
            if regex.match(path):
                return template
        return None

    def statuses(self, method, path):
        template = self.template(path)
        if template is None:
            return None
        operation = self.openapi["paths"][template].get(method.lower())
        return None if operation is None else {int(s) for s in operation["responses"] if s.isdigit()}

    def check(self, response):
        """Fails unless this httpx response's status is documented for its route."""
        request = response.request
        path = urlsplit(str(request.url)).path
        statuses = self.statuses(request.method, path)
        assert statuses is not None, f"{request.method} {path} is no documented route"
        assert response.status_code in statuses, (
            f"{request.method} {path} answered {response.status_code}, documented: {sorted(statuses)}: {response.text[:300]}")
        return response
