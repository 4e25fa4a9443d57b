"""The sandbox registry behind HTTP, with switchable trouble (slow, failing, down, garbled).

A small Flask app of its own, not part of the service: `akta sandbox serve` runs it with
waitress, and `client.HttpDukcapil` talks to it exactly as it would to Dukcapil.

Wire format (every body JSON; see `wire.py` for how fields are written):

- ``POST /v1/person/verify``: a PersonClaim -> a PersonAnswer
- ``POST /v1/family/verify``: a FamilyClaim -> a FamilyAnswer
- ``POST /v1/births``: a BirthRegistration -> a BirthRegistered (``child_nik`` and the
  updated ``family_card``, its ``members`` a list), the same NIK on a retry
- errors: ``{"error": code, "message": text}`` with 400 (bad body), 401 (API key),
  404 (``kk_not_found``), 422 (other refusals), 503 (injected failure)
- ``GET /_health``: ``{"status": "ok", "requests": n, "families": n}``, never faulted or
  guarded; ``requests`` counts the /v1 calls that reached the server
- ``GET /_faults`` and ``PUT /_faults``: the Faults as JSON; PUT replaces them all (missing
  fields take their defaults, so ``{}`` is healthy) and restarts the fault draws from `seed`
- ``GET /_registrations/<registration number>``: ``{"registration_number": ..., "child_nik":
  ...}`` for a birth this sandbox registered, else 404 ``not_registered``
- ``GET /_snapshot``: the whole registry as canonical JSON, to compare two runs or keep
  the state a bug was seen in (equal bytes, equal populations)

With an API key configured, /v1 and the /_ pages need ``Authorization: Bearer <key>``
(``/_health`` excepted).
"""

from __future__ import annotations

import hmac
import random
import threading
import time
from dataclasses import dataclass

from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

from akta_service.verification.dukcapil import BirthRegistration, FamilyClaim, PersonClaim
from akta_service.verification.sandbox import (
    RegistrationRefused,
    SandboxDukcapil,
    SandboxPopulation,
)
from akta_service.verification.wire import WireError, from_wire, to_wire

#: What a garbled answer looks like: a JSON object cut off half way.
GARBLED_BODY = '{"nik": "match", "name": '


@dataclass(frozen=True)
class Faults:
    """Trouble the sandbox puts into its /v1 answers."""

    #: Added to every answer, before anything else happens.
    latency_ms: int = 0
    #: Share of calls answered 503 without being processed.
    error_rate: float = 0.0
    #: Every call answered 503.
    down: bool = False
    #: Share of calls processed but answered 200 with a body that is not JSON.
    malformed_rate: float = 0.0
    #: Seeds the draws that pick the failing calls, so a test sees the same ones every run.
    seed: int = 0

    def __post_init__(self) -> None:
        if self.latency_ms < 0:
            raise ValueError("latency_ms must be 0 or more")
        for name in ("error_rate", "malformed_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")


class _SandboxService:
    """The state one sandbox app serves: the registry, the faults, a request count."""

    def __init__(self, population: SandboxPopulation, faults: Faults, api_key: str | None) -> None:
        self.population = population
        self.dukcapil = SandboxDukcapil(population)
        self.api_key = api_key
        self.requests = 0
        self._lock = threading.Lock()
        self._faults = faults
        self._draws = random.Random(faults.seed)  # noqa: S311 - fault injection, not secrets

    @property
    def faults(self) -> Faults:
        return self._faults

    def set_faults(self, faults: Faults) -> None:
        with self._lock:
            self._faults = faults
            self._draws = random.Random(faults.seed)  # noqa: S311 - fault injection

    def count_request(self) -> None:
        with self._lock:
            self.requests += 1

    def draw(self) -> tuple[Faults, float, float]:
        """The faults in force and two draws (error, garble) for one call."""
        with self._lock:
            return self._faults, self._draws.random(), self._draws.random()


def create_sandbox_app(
    population: SandboxPopulation, faults: Faults | None = None, *, api_key: str | None = None
) -> Flask:
    """A Flask app answering like Dukcapil from `population`."""
    app = Flask(__name__)
    service = _SandboxService(population, faults or Faults(seed=population.seed), api_key)
    app.extensions["akta_sandbox"] = service

    @app.before_request
    def guard() -> Response | None:
        if request.url_rule is None or request.path == "/_health":
            return None  # unknown paths get their 404 whoever asks
        calling = request.path.startswith("/v1/")
        if calling:
            service.count_request()
        if service.api_key and not _authorised(service.api_key):
            response = _error(401, "unauthorised", "send Authorization: Bearer <api key>")
            response.headers["WWW-Authenticate"] = "Bearer"
            return response
        return _inject_fault(service) if calling else None

    @app.after_request
    def garble(response: Response) -> Response:
        if g.get("garble") and response.status_code == 200:
            response.set_data(GARBLED_BODY)
        return response

    @app.post("/v1/person/verify")
    def verify_person() -> Response:
        claim = from_wire(PersonClaim, request.get_json(silent=True))
        return jsonify(to_wire(service.dukcapil.verify_person(claim)))

    @app.post("/v1/family/verify")
    def verify_family() -> Response:
        claim = from_wire(FamilyClaim, request.get_json(silent=True))
        return jsonify(to_wire(service.dukcapil.verify_family(claim)))

    @app.post("/v1/births")
    def register_birth() -> Response:
        registration = from_wire(BirthRegistration, request.get_json(silent=True))
        return jsonify(to_wire(service.dukcapil.register_birth(registration)))

    _add_control_routes(app, service)

    @app.errorhandler(WireError)
    def bad_body(exc: WireError) -> Response:
        return _error(400, "bad_request", str(exc))

    @app.errorhandler(RegistrationRefused)
    def refused(exc: RegistrationRefused) -> Response:
        return _error(404 if exc.code == "kk_not_found" else 422, exc.code, str(exc))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        return _error(
            exc.code or 500, (exc.name or "error").lower().replace(" ", "_"), exc.description or ""
        )

    return app


def _add_control_routes(app: Flask, service: _SandboxService) -> None:
    """The /_ pages: health, the faults switch, and what the sandbox registered and holds."""

    @app.get("/_health")
    def health() -> Response:
        families = len(service.population.families())
        return jsonify({"status": "ok", "requests": service.requests, "families": families})

    @app.get("/_faults")
    def get_faults() -> Response:
        return jsonify(to_wire(service.faults))

    @app.put("/_faults")
    def put_faults() -> Response:
        try:
            faults = from_wire(Faults, request.get_json(silent=True))
        except ValueError as exc:  # WireError, or a range check of Faults
            return _error(400, "bad_request", str(exc))
        service.set_faults(faults)
        return jsonify(to_wire(faults))

    @app.get("/_registrations/<registration_number>")
    def registration(registration_number: str) -> Response:
        child_nik = service.population.registered_child(registration_number)
        if child_nik is None:
            return _error(404, "not_registered", f"no birth registered as {registration_number}")
        return jsonify({"registration_number": registration_number, "child_nik": child_nik})

    @app.get("/_snapshot")
    def snapshot() -> Response:
        return Response(service.population.snapshot(), mimetype="application/json")


def _authorised(api_key: str) -> bool:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(token.encode(), api_key.encode())


def _inject_fault(service: _SandboxService) -> Response | None:
    faults, error_draw, garble_draw = service.draw()
    if faults.latency_ms:
        time.sleep(faults.latency_ms / 1000)
    if faults.down or error_draw < faults.error_rate:
        return _error(503, "unavailable", "the sandbox is failing on purpose (see /_faults)")
    # Garbled after processing, as a proxy might: a retried registration must not count twice.
    g.garble = garble_draw < faults.malformed_rate
    return None


def _error(status: int, code: str, message: str) -> Response:
    response = jsonify({"error": code, "message": message})
    response.status_code = status
    return response
