"""The signature exactly as the collection's pre-request script computes it."""

from __future__ import annotations

from conclave.compat.qriib.auth import normalise, sign
from tests.compat.qriib.helpers import script_signature

BODY = (
    '{"project_id":"yourprojectidhere","name":"Test room","client_room_id":"room1reee2ssss3",'
    '"moderator_id":"mod1","max_participants":20,"empty_timeout":300,'
    '"metadata":{"room_title":"My room","welcome_message":"Welcome!"}}'
)


def test_vectors_from_the_collection_description() -> None:
    # The Python example of the collection description, with its placeholder secret.
    assert sign("yoursecretkeyhere", BODY) == "LeTLBUP9WZRJWWrzTFpIfQwIjJBq3BV7iAf9LKY7iG0="
    assert (
        sign("yoursecretkeyhere", "/api/v4/rooms/room_status?room_id=room123")
        == "fBSEZKAC8j5vZGoRD6p7oAOUKVSqG3DaQlsVNAuuYFg="
    )


def test_crlf_becomes_lf_and_the_message_is_trimmed() -> None:
    pretty = '\r\n{\r\n  "room_id": "x"\r\n}\r\n  '
    assert normalise(pretty) == '{\n  "room_id": "x"\n}'
    assert sign("s", pretty) == sign("s", '{\n  "room_id": "x"\n}')
    # A lone CR is not a CRLF and stays, as with the script's /\r\n/g.
    assert normalise("a\rb") == "a\rb"


def test_trim_is_javascripts() -> None:
    # JavaScript's trim removes U+FEFF and U+00A0 but not U+0085 or U+001C, unlike str.strip().
    assert normalise("\ufeff\u00a0{}\u3000") == "{}"
    assert normalise("\x85{}\x1c") == "\x85{}\x1c"


def test_helper_matches_the_server() -> None:
    assert script_signature("secret", '{"a": 1}\r\n') == sign("secret", '{"a": 1}')
