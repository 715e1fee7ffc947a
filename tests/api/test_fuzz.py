"""Schema fuzzing: schemathesis sends every operation of the app's OpenAPI generated requests,
valid and invalid, as a logged-in buyer or admin. No request may give a server error, and
every response must be one the schema documents, in the shape it documents. The two event
streams (server-sent events, which never end by themselves) are left out.

The number of examples per operation is bounded (``XIAOER_FUZZ_EXAMPLES``, default 30) so the
run takes a few minutes on two cores; the figures are written to ``artifacts/fuzz.json``.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings

from bot.api.app import create_app
from bot.config import Settings
from tests.api.conftest import KNOWLEDGE, make_services

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = int(os.environ.get("XIAOER_FUZZ_EXAMPLES", "30"))
ADMIN = ("fuzz-admin", "fuzz-admin-password")
# Logging out (or in) with the fuzzer's own token would end the session it fuzzes with.
NO_TOKEN_PREFIXES = ("/api/auth/",)
AGENT_PREFIXES = ("/api/agent/", "/api/admin/")


class Tally:
    """Statuses per operation, written out when the module ends."""

    def __init__(self) -> None:
        self.statuses: dict[str, Counter[int]] = {}
        self.started = time.monotonic()

    def add(self, operation: str, status: int) -> None:
        self.statuses.setdefault(operation, Counter())[status] += 1

    def report(self) -> dict[str, Any]:
        total: Counter[int] = Counter()
        for counts in self.statuses.values():
            total.update(counts)
        return {
            "cases": sum(total.values()),
            "server_errors": sum(n for status, n in total.items() if status >= 500),
            "seconds": round(time.monotonic() - self.started, 1),
            "examples_per_operation": EXAMPLES,
            "statuses": {str(k): v for k, v in sorted(total.items())},
            "operations": {
                op: {str(k): v for k, v in sorted(c.items())} for op, c in sorted(self.statuses.items())
            },
        }


# The schema is read when the module is collected, so the app is built then; building it is
# cheap (its services are built below, for the module, and handed to it before any request).
# Demo mode, as ``xiaoer serve`` on the demo shop, plus the benchmark routes of eval mode.
APP = create_app(Settings(shop_dir=KNOWLEDGE, demo=True, rate_limits=False), eval_mode=True)


@pytest.fixture(scope="module")
def tokens(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, str], dict[str, str]]]:
    services = make_services(tmp_path_factory.mktemp("fuzz"), demo=True, rate_limits=False)
    services.accounts.create(ADMIN[0], ADMIN[1], "admin")
    APP.state.services = services
    with TestClient(APP) as client:
        buyer = client.post("/api/auth/demo-login", json={"buyer_id": "b01"}).json()["token"]
        admin = client.post(
            "/api/auth/agent-login", json={"username": ADMIN[0], "password": ADMIN[1]}
        ).json()["token"]
        client.post("/api/conversations", headers={"Authorization": f"Bearer {buyer}"})
        yield {"Authorization": f"Bearer {buyer}"}, {"Authorization": f"Bearer {admin}"}
    APP.state.services = None


@pytest.fixture(scope="module")
def tally() -> Iterator[Tally]:
    t = Tally()
    yield t
    report = t.report()
    (ROOT / "artifacts").mkdir(exist_ok=True)
    (ROOT / "artifacts" / "fuzz.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print(
        f"\nfuzz: {report['cases']} cases, {report['server_errors']} server errors, "
        f"{report['seconds']} s, statuses {report['statuses']}"
    )


# The two event streams never end by themselves; tests/api and tests/web cover them.
schema = schemathesis.openapi.from_asgi("/openapi.json", APP).exclude(path_regex=r"/events$")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_every_operation_answers_as_documented(
    case: Any, tokens: tuple[dict[str, str], dict[str, str]], tally: Tally
) -> None:
    buyer, admin = tokens
    path = case.operation.path
    if path.startswith(NO_TOKEN_PREFIXES):
        headers: dict[str, str] = {}
    elif path.startswith(AGENT_PREFIXES):
        headers = admin
    else:
        headers = buyer
    response = case.call(headers=headers)
    tally.add(f"{case.method} {path}", response.status_code)
    case.validate_response(response, headers=headers)
