"""What every Rita HTTP service shares: problem+json errors, the settings base, the lifespan
state shape and the request body-size limit."""

from servicekit.bodylimit import BodySizeLimitMiddleware, BodyTooLarge
from servicekit.problems import (
    PROBLEM_JSON,
    ProblemError,
    http_problem_body,
    install_problem_handlers,
    problem,
    problem_body,
    problem_from,
    safe_errors,
)
from servicekit.settings import KIB, ServiceSettings
from servicekit.state import service_state, set_service_state

__all__ = [
    "KIB",
    "PROBLEM_JSON",
    "BodySizeLimitMiddleware",
    "BodyTooLarge",
    "ProblemError",
    "ServiceSettings",
    "http_problem_body",
    "install_problem_handlers",
    "problem",
    "problem_body",
    "problem_from",
    "safe_errors",
    "service_state",
    "set_service_state",
]
