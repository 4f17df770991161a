"""CRM secrets in the keyring: an in-memory backend (a unit-test double) and keyrings.alt's file backend in a
temporary folder stand in for the OS keyring; the developer's real keyring is never touched."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backend
import keyring.backends.fail
import keyring.errors
import pytest
from keyrings.alt.file import PlaintextKeyring

from desktop.core.crm import credentials
from desktop.core.errors import InputError


class MemoryKeyring(keyring.backend.KeyringBackend):
    """Unit-test double of an OS keyring: a dict."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.items.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError("not found")


class LockedKeyring(MemoryKeyring):
    """A Secret Service whose collection is locked and the unlock prompt was dismissed."""

    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("Failed to unlock the collection!")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.PasswordSetError("Failed to unlock the collection!")


@pytest.fixture
def memory() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@contextlib.contextmanager
def _use(backend: keyring.backend.KeyringBackend) -> Iterator[keyring.backend.KeyringBackend]:
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


def test_set_get_delete_round_trip(memory: MemoryKeyring) -> None:
    assert credentials.get_secret("salesforce", "https://acme.my.salesforce.com") is None
    credentials.set_secret("salesforce", "https://acme.my.salesforce.com/", "  00Dxx!token\n")
    assert memory.items == {("agent-assist", "salesforce:https://acme.my.salesforce.com"): "00Dxx!token"}
    # The trailing slash does not make another entry.
    assert credentials.get_secret("salesforce", "https://acme.my.salesforce.com/") == "00Dxx!token"
    assert credentials.get_secret("hubspot", "https://acme.my.salesforce.com") is None
    assert credentials.delete_secret("salesforce", "https://acme.my.salesforce.com") is True
    assert credentials.delete_secret("salesforce", "https://acme.my.salesforce.com") is False
    assert credentials.get_secret("salesforce", "https://acme.my.salesforce.com") is None


def test_bad_input_is_one_line(memory: MemoryKeyring) -> None:
    with pytest.raises(InputError, match=r"^credentials: crm.endpoint is empty for connector 'webhook'$"):
        credentials.get_secret("webhook", " ")
    with pytest.raises(InputError, match=r"^credentials: the secret is empty$"):
        credentials.set_secret("webhook", "https://crm.example.test", "   ")
    with pytest.raises(InputError, match="line break"):
        credentials.set_secret("webhook", "https://crm.example.test", "abc\ndef")
    assert memory.items == {}


def test_fail_backend_says_what_to_install() -> None:
    with _use(keyring.backends.fail.Keyring()):
        for call in (
            lambda: credentials.get_secret("hubspot", "https://api.hubapi.com"),
            lambda: credentials.set_secret("hubspot", "https://api.hubapi.com", "pat-eu1-x"),
            lambda: credentials.delete_secret("hubspot", "https://api.hubapi.com"),
        ):
            with pytest.raises(credentials.KeyringUnavailableError) as caught:
                call()
            message = str(caught.value)
            assert "\n" not in message
            assert "PYTHON_KEYRING_BACKEND" in message
            assert "gnome-keyring" in message


def test_locked_keyring_is_a_clear_error() -> None:
    with _use(LockedKeyring()):
        with pytest.raises(credentials.KeyringUnavailableError, match="Failed to unlock the collection"):
            credentials.get_secret("dynamics", "https://org.crm4.dynamics.com")
        with pytest.raises(credentials.KeyringUnavailableError, match="Failed to unlock the collection"):
            credentials.set_secret("dynamics", "https://org.crm4.dynamics.com", "eyJ0")


def test_keyrings_alt_file_backend_in_a_temp_folder(tmp_path: Path) -> None:
    backend = PlaintextKeyring()
    backend.file_path = str(tmp_path / "keyring_pass.cfg")  # type: ignore[misc]
    with _use(backend):
        credentials.set_secret("webhook", "https://crm.example.test/hook", "s3cret-hmac-key")
        assert credentials.get_secret("webhook", "https://crm.example.test/hook") == "s3cret-hmac-key"
        assert (tmp_path / "keyring_pass.cfg").exists()
        assert credentials.backend_description() == backend.name


def test_secret_never_logged(memory: MemoryKeyring, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="agent_assist")
    credentials.set_secret("webhook", "https://crm.example.test/hook", "very-secret-value")
    credentials.get_secret("webhook", "https://crm.example.test/hook")
    credentials.delete_secret("webhook", "https://crm.example.test/hook")
    assert caplog.records, "storing and deleting a secret is logged (without the secret)"
    assert all("very-secret-value" not in record.getMessage() for record in caplog.records)
