"""Accounts from an environment variable, checked against HTTP Basic credentials."""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Account:
    """One configured account: a login (email or user name), its secret, and its flags."""

    login: str
    secret: str = field(repr=False)
    flags: frozenset[str] = frozenset()

    def has(self, flag: str) -> bool:
        """Whether the account carries `flag` (e.g. `nobrowse`, `noincidents`)."""
        return flag in self.flags


def parse_accounts(spec: str, *, variable: str, flags: Iterable[str] = ()) -> tuple[Account, ...]:
    """Parse `login:secret[:flag...][,login:secret...]`; errors name `variable`."""
    allowed = frozenset(flags)
    accounts: list[Account] = []
    for raw in spec.split(","):
        item = raw.strip()
        if not item:
            continue
        login, _, rest = item.partition(":")
        secret, _, flag_text = rest.partition(":")
        if not login or not secret:
            shape = "login:secret" + "".join(f"[:{flag}]" for flag in sorted(allowed))
            raise ValueError(f"{variable} entries must look like {shape}")
        given = frozenset(part for part in flag_text.split(":") if part)
        unknown = given - allowed
        if unknown:
            raise ValueError(f"{variable}: unknown account flag {sorted(unknown)[0]!r}")
        accounts.append(Account(login, secret, given))
    if not accounts:
        raise ValueError(f"{variable} must name at least one account")
    return tuple(accounts)


class BasicAuth:
    """Finds the account behind an `Authorization: Basic ...` header (logins case-insensitive)."""

    def __init__(self, accounts: Iterable[Account]) -> None:
        self.accounts = {account.login.lower(): account for account in accounts}

    def authenticate(self, header: str | None) -> Account | None:
        """The account, or None for a missing, malformed or wrong credential."""
        if not header or header[:6].lower() != "basic ":
            return None
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        login, _, secret = decoded.partition(":")
        account = self.accounts.get(login.lower())
        # Constant-time comparison: a wrong secret takes as long as a right one.
        if account is None or not hmac.compare_digest(account.secret.encode(), secret.encode()):
            return None
        return account
