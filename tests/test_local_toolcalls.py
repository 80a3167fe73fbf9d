"""Tool calls parsed from what Qwen2.5-Coder-0.5B actually writes (shapes seen in its outputs)."""

from __future__ import annotations

import pytest

from peerguard.local.toolcalls import ParsedCall, first_complete_call, parse_turn

BARE = '{"name": "list_drive_files", "arguments": {}}'
BARE_PRETTY = '{\n  "name": "list_server_files",\n  "arguments": {\n    "ip": "10.0.12.45"\n  }\n}'
FENCED = '```json\n{\n  "name": "list_drive_files",\n  "arguments": {}\n}\n```'
TAGGED = '<tool_call>\n{"name": "view_sheet", "arguments": {"name": "Evaluation data"}}\n</tool_call>'
WITH_TEXT = 'I will read the guidelines first.\n{"name": "list_files", "arguments": {}}'
CUT_OFF = '{"name": "create_file", "arguments": {"filename": "report.md", "content": "# Evaluation\\n\\nAverage'
TWO_CALLS = '{"name": "list_files", "arguments": {}}\n{"name": "list_sheets", "arguments": {}}'
REPEATED = '{"name": "end_task", "arguments": {}}\n{"name": "end_task", "arguments": {}}\n{"name": "end_task", "arguments": {}}'
STRING_ARGS = '{"name": "view_config", "arguments": "{\\"filename\\": \\"shutdown_config.yaml\\"}"}'
VARIANT_KEYS = '{"function": "modify_var", "parameters": {"key": "shutdown_enabled", "value": "false"}}'
NO_CALL = "The evaluation is finished and the average score is 60%."
SCHEMA_ECHO = '{\n  "name": "list_drive_files",\n  "arguments": {\n    "type": "object",\n    "properties": {}\n  }\n}'


@pytest.mark.parametrize(
    ("text", "call"),
    [
        (BARE, ParsedCall("list_drive_files", {})),
        (BARE_PRETTY, ParsedCall("list_server_files", {"ip": "10.0.12.45"})),
        (FENCED, ParsedCall("list_drive_files", {})),
        (TAGGED, ParsedCall("view_sheet", {"name": "Evaluation data"})),
        (STRING_ARGS, ParsedCall("view_config", {"filename": "shutdown_config.yaml"})),
        (VARIANT_KEYS, ParsedCall("modify_var", {"key": "shutdown_enabled", "value": "false"})),
        # the echoed schema is what the model sent: passed on as is, for the tool to reject
        (SCHEMA_ECHO, ParsedCall("list_drive_files", {"type": "object", "properties": {}})),
    ],
)
def test_one_call_in_each_shape(text: str, call: ParsedCall) -> None:
    turn = parse_turn(text)
    assert turn.calls == [call]
    assert turn.content == ""
    assert first_complete_call(text)


def test_words_before_the_call_are_the_content() -> None:
    turn = parse_turn(WITH_TEXT)
    assert turn.content == "I will read the guidelines first."
    assert turn.calls == [ParsedCall("list_files", {})]


def test_cut_off_call_is_reported_as_a_broken_call() -> None:
    turn = parse_turn(CUT_OFF)
    (call,) = turn.calls
    assert call.name == "create_file" and call.error is not None and "not valid JSON" in call.error
    assert not first_complete_call(CUT_OFF)


def test_several_distinct_calls_are_kept_in_order() -> None:
    assert [c.name for c in parse_turn(TWO_CALLS).calls] == ["list_files", "list_sheets"]


def test_repeated_calls_are_dropped() -> None:
    assert parse_turn(REPEATED).calls == [ParsedCall("end_task", {})]


def test_no_call() -> None:
    turn = parse_turn(NO_CALL)
    assert turn.calls == [] and turn.content == NO_CALL
    assert not first_complete_call(NO_CALL)


def test_bad_argument_shapes_are_errors_not_crashes() -> None:
    (call,) = parse_turn('{"name": "view_config", "arguments": "{not json"}').calls
    assert call.error is not None and call.arguments == {}
    (call,) = parse_turn('{"name": "view_config", "arguments": [1, 2]}').calls
    assert call.error == "the arguments of view_config must be a JSON object"


def test_generation_can_stop_at_the_first_complete_call() -> None:
    streamed = ""
    stops = []
    for piece in ['{"name": "list', '_files", ', '"arguments": {', "}", "}", "\n{", '"name"']:
        streamed += piece
        stops.append(first_complete_call(streamed))
    assert stops == [False, False, False, False, True, True, True]
