"""Dukcapil over HTTP: timeouts, retries with backoff and jitter, a circuit breaker, masked logs.

Every way of getting no usable answer (timeout, refused connection, 5xx, 429, a body that
is not the expected JSON, an open circuit) ends as DukcapilUnavailable, which verification
waits out. A request Dukcapil rejects as wrong (another 4xx) is our mistake, not Dukcapil's
state: DukcapilRequestError, raised at once.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
import pybreaker
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from akta_service.core.nik import parse_nik
from akta_service.verification.dukcapil import (
    BirthRegistered,
    BirthRegistration,
    DukcapilRefused,
    DukcapilUnavailable,
    FamilyAnswer,
    FamilyClaim,
    PersonAnswer,
    PersonClaim,
)
from akta_service.verification.masking import mask_nik
from akta_service.verification.wire import WireError, from_wire, to_wire

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

logger = logging.getLogger("akta_service.dukcapil")

T = TypeVar("T")
D = TypeVar("D", bound="DataclassInstance")


class DukcapilRequestError(RuntimeError):
    """Dukcapil rejected the request itself (a 4xx other than 429): a bug or a wrong setting
    on our side (e.g. the API key), so it is not retried and does not trip the breaker."""

    def __init__(self, status_code: int, message: str, code: str = "no error code") -> None:
        super().__init__(message)
        self.status_code = status_code
        #: Dukcapil's short machine code for the refusal.
        self.code = code


class _Transient(Exception):
    """One attempt got no usable answer; another attempt may."""


class _CircuitOpen(Exception):
    """The breaker is open and has not cooled down yet."""

    def __init__(self, remaining: float) -> None:
        super().__init__(f"circuit open for {remaining:.1f} s more")
        self.remaining = remaining


class _BreakerWatch(pybreaker.CircuitBreakerListener):
    """Notes when the circuit opened (the gate needs it) and logs every change of state."""

    def __init__(self) -> None:
        self.opened_at = 0.0

    def state_change(
        self,
        cb: pybreaker.CircuitBreaker,
        old_state: pybreaker.CircuitBreakerState | None,
        new_state: pybreaker.CircuitBreakerState,
    ) -> None:
        if new_state.name == pybreaker.STATE_OPEN:
            self.opened_at = time.monotonic()
            logger.warning(
                "Dukcapil circuit opened after %d failed attempts: calls fail fast for %.1f s",
                cb.fail_max,
                cb.reset_timeout,
            )
        elif new_state.name == pybreaker.STATE_CLOSED and old_state is not None:
            logger.info("Dukcapil circuit closed: Dukcapil answers again")


class HttpDukcapil:
    """The Dukcapil protocol over HTTP (JSON, see sandbox_server for the wire format).

    One instance is meant to be shared by every thread of the process: one connection pool,
    one breaker.

    :param attempts: tries per call, the first included.
    :param backoff_base: first wait between tries in seconds; doubles each time, plus up to
        as much again of random jitter, never more than `backoff_max`.
    :param breaker_fail_max: failed attempts in a row that open the circuit.
    :param breaker_reset_seconds: how long an open circuit fails calls without trying.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        connect_timeout: float = 2.0,
        read_timeout: float = 5.0,
        attempts: int = 3,
        backoff_base: float = 0.2,
        backoff_max: float = 2.0,
        breaker_fail_max: int = 5,
        breaker_reset_seconds: float = 30.0,
    ) -> None:
        headers = {"Accept": "application/json", "User-Agent": "akta-service"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._http = httpx.Client(
            base_url=base_url,
            headers=headers,
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
        )
        self._attempts = max(1, attempts)
        self._backoff_base = backoff_base
        self._backoff_max = backoff_max
        self._watch = _BreakerWatch()
        self._breaker = pybreaker.CircuitBreaker(
            fail_max=breaker_fail_max,
            reset_timeout=breaker_reset_seconds,
            listeners=[self._watch],
            name="dukcapil",
        )

    @property
    def circuit_state(self) -> str:
        """The breaker's state: closed, open or half-open."""
        return str(self._breaker.current_state)

    def verify_person(self, claim: PersonClaim) -> PersonAnswer:
        """Match one person's claimed facts; raise DukcapilUnavailable if no answer."""
        answer = self._call("/v1/person/verify", to_wire(claim), _decoder(PersonAnswer))
        logger.debug("Dukcapil verify_person nik=%s: %s", mask_nik(claim.nik), _summary(answer))
        return answer

    def verify_family(self, claim: FamilyClaim) -> FamilyAnswer:
        """Match the claimed family card; raise DukcapilUnavailable if no answer."""
        answer = self._call("/v1/family/verify", to_wire(claim), _decoder(FamilyAnswer))
        logger.debug(
            "Dukcapil verify_family kk=%s: %s", mask_nik(claim.kk_number), _summary(answer)
        )
        return answer

    def register_birth(self, registration: BirthRegistration) -> BirthRegistered:
        """Assign the child's NIK and add the child to the KK, which the answer carries;
        retried safely, since Dukcapil is idempotent per registration number.

        :raises DukcapilRefused: Dukcapil will not register it (no such KK, the mother not
            on it: HTTP 404 or 422 with its error code).
        """
        try:
            registered = self._call("/v1/births", to_wire(registration), _registered)
        except DukcapilRequestError as exc:
            if exc.status_code not in (404, 422):
                raise
            raise DukcapilRefused(exc.code, str(exc)) from exc
        logger.info(
            "Dukcapil registered birth %s in kk=%s: child nik=%s, %d on the KK",
            registration.registration_number,
            mask_nik(registration.kk_number),
            mask_nik(registered.child_nik),
            len(registered.family_card.members),
        )
        return registered

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> HttpDukcapil:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _call(self, path: str, body: dict[str, Any], decode: Callable[[Any], T]) -> T:
        # Every call is safe to repeat: verification only reads, registration is idempotent.
        retrying = Retrying(
            stop=stop_after_attempt(self._attempts),
            wait=wait_exponential_jitter(
                multiplier=self._backoff_base, max=self._backoff_max, jitter=self._backoff_base
            ),
            retry=retry_if_exception_type(_Transient),
            before_sleep=_log_retry(path, self._attempts),
            reraise=True,
        )
        try:
            return retrying(self._attempt, path, body, decode)
        except _CircuitOpen as exc:
            logger.warning("Dukcapil %s not tried: %s", path, exc)
            raise DukcapilUnavailable(
                f"Dukcapil is not being called for {exc.remaining:.1f} s more: "
                f"{self._breaker.fail_max} attempts in a row failed (circuit open)"
            ) from exc
        except _Transient as exc:
            logger.warning(
                "Dukcapil %s unavailable after %d attempt(s): %s", path, self._attempts, exc
            )
            raise DukcapilUnavailable(
                f"Dukcapil gave no usable answer to {path} in {self._attempts} attempt(s); "
                f"last: {exc}"
            ) from exc

    def _attempt(self, path: str, body: dict[str, Any], decode: Callable[[Any], T]) -> T:
        self._check_circuit()
        try:
            answer = self._exchange(path, body, decode)
        except _Transient as exc:
            self._record(exc)
            raise
        self._record(None)
        return answer

    def _exchange(self, path: str, body: dict[str, Any], decode: Callable[[Any], T]) -> T:
        try:
            response = self._http.post(path, json=body)
        except httpx.TimeoutException as exc:
            raise _Transient(f"timed out ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise _Transient(f"no connection ({type(exc).__name__}: {exc})") from exc
        status = response.status_code
        if status == 429 or status >= 500:
            raise _Transient(f"HTTP {status}")
        if not response.is_success:
            code = _error_code(response)
            raise DukcapilRequestError(
                status, f"Dukcapil rejected {path} with HTTP {status} ({code})", code
            )
        try:
            return decode(response.json())
        except ValueError as exc:  # not JSON, or JSON of the wrong shape (WireError)
            raise _Transient(f"malformed answer ({exc})") from exc

    # pybreaker holds its lock for the whole of a call it wraps, so one slow Dukcapil call
    # would stall every other thread (danielfm/pybreaker#3). The HTTP call therefore runs
    # outside the breaker: a gate asks whether the circuit is open, and each attempt's
    # outcome is then passed through the breaker so it keeps count and changes state.

    def _check_circuit(self) -> None:
        if self._breaker.current_state != pybreaker.STATE_OPEN:
            return
        remaining = self._watch.opened_at + self._breaker.reset_timeout - time.monotonic()
        if remaining > 0:
            raise _CircuitOpen(remaining)

    def _record(self, failure: _Transient | None) -> None:
        def outcome() -> None:
            if failure is not None:
                raise failure

        # The caller raises the failure itself; the breaker tripping on it is not news.
        with contextlib.suppress(_Transient, pybreaker.CircuitBreakerError):
            self._breaker.call(outcome)


def _decoder(cls: type[D]) -> Callable[[Any], D]:
    def decode(data: Any) -> D:
        # A newer Dukcapil may add fields to its answers; that must not make them unusable.
        return from_wire(cls, data, allow_unknown=True)

    return decode


def _registered(data: Any) -> BirthRegistered:
    registered = from_wire(BirthRegistered, data, allow_unknown=True)
    # A NIK that is not one is as unusable as no answer; so is a KK without the child.
    parse_nik(registered.child_nik)
    if registered.child_nik not in {member.nik for member in registered.family_card.members}:
        raise WireError("family_card.members: the child is not listed")
    return registered


def _summary(answer: PersonAnswer | FamilyAnswer) -> str:
    # Answers carry verdicts, a score, a region code and a count: nothing that identifies anyone.
    return ", ".join(f"{key}={value}" for key, value in to_wire(answer).items())


def _error_code(response: httpx.Response) -> str:
    # Only the short machine code: a server's message could echo the data we sent.
    try:
        code = response.json().get("error")
    except (ValueError, AttributeError):
        return "no error code"
    return code if isinstance(code, str) and len(code) <= 40 else "no error code"


def _log_retry(path: str, attempts: int) -> Callable[[RetryCallState], None]:
    def log(state: RetryCallState) -> None:
        failure = state.outcome.exception() if state.outcome else None
        pause = state.next_action.sleep if state.next_action else 0.0
        logger.info(
            "Dukcapil %s attempt %d of %d failed (%s); next in %.2f s",
            path,
            state.attempt_number,
            attempts,
            failure,
            pause,
        )

    return log
