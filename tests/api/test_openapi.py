"""The OpenAPI document is a valid OpenAPI 3.1 document, complete enough to build a client from,
and the contract checker that wraps the API suite's client (tests/support/contract.py) fails
on what the document does not declare."""
from __future__ import annotations

import json

import pytest
from openapi_spec_validator import validate

from tests.support.contract import (
    ContractViolation,
    check_answer,
    missing_or_mistyped,
    operations,
    resolve,
    undeclared_fields,
)


@pytest.fixture
def document(client):
    return client.get("/api/v1/openapi.json").get_json()


def test_the_document_is_valid_openapi(document):
    validate(document)  # raises on any fault, with the path to it


def test_every_operation_declares_its_answers(document):
    for op_id, (path, _method, op) in operations(document).items():
        responses = op["responses"]
        successes = [code for code in responses if code.startswith("2")]
        assert successes, f"{op_id}: no success status"
        for code in successes:
            content = responses[code].get("content")
            assert content, f"{op_id} {code}: no response schema"
        for code, answer in responses.items():
            if code.startswith("2"):
                continue
            answer = answer if "$ref" not in answer else {"x-error-codes": ["unavailable"]}
            assert answer["x-error-codes"], f"{op_id} {code}: no error codes"
        assert "400" in responses and "503" in responses, op_id
        if "security" in op:
            assert {"401", "403"} <= set(responses), op_id
        if "{" in path:
            assert "not_found" in responses["404"]["x-error-codes"], op_id


def test_the_error_schema_enumerates_every_declared_code(document):
    enum = set(document["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]["enum"])
    declared = {code for _, _, op in operations(document).values() for answer in op["responses"].values()
                for code in answer.get("x-error-codes", [])}
    assert declared <= enum and {"slot_full", "not_today", "code_used", "waiting", "unavailable"} <= enum


def test_the_statuses_that_differ_from_200_are_declared(document):
    ops = operations(document)
    assert set(ops["proxy_my_book"][2]["responses"]) >= {"200", "201", "409"}
    assert "201" in ops["requests_create_mine"][2]["responses"]
    assert "200" not in ops["events_create"][2]["responses"]
    assert "slot_full" in ops["proxy_my_book"][2]["responses"]["409"]["x-error-codes"]
    assert "not_today" in ops["proxy_booking_check_in"][2]["responses"]["409"]["x-error-codes"]
    assert "code_used" in ops["events_checkin"][2]["responses"]["409"]["x-error-codes"]
    assert "waiting" in ops["events_my_code"][2]["responses"]["409"]["x-error-codes"]


def test_request_bodies_carry_the_validation_rules(document):
    ops = operations(document)
    event = ops["events_create"][2]["requestBody"]["content"]["application/json"]["schema"]
    assert set(event["required"]) == {"title", "kind", "starts_at", "ends_at"}
    assert event["properties"]["title"]["maxLength"] == 100 and "enum" in event["properties"]["kind"]
    assert "required" not in ops["events_update"][2]["requestBody"]["content"]["application/json"]["schema"]


def test_the_suite_client_is_the_checking_one(client):
    assert type(client).__name__ == "ContractClient"


def _op(document, op_id):
    return operations(document)[op_id][2]


def test_the_checker_refuses_an_undeclared_status(document):
    problems = check_answer(document, _op(document, "proxy_my_booking"), 418, "application/json",
                            {"error": {"code": "teapot", "message": "x", "field": None}})
    assert problems and "418" in problems[0]


def test_the_checker_refuses_an_undeclared_error_code(document):
    op = _op(document, "proxy_my_book")
    ok = {"error": {"code": "slot_full", "message": "满了", "field": "slot_start"}}
    assert check_answer(document, op, 409, "application/json", ok) == []
    wrong = {"error": {"code": "made_up", "message": "x", "field": None}}
    assert "made_up" in check_answer(document, op, 409, "application/json", wrong)[0]
    assert check_answer(document, op, 409, "application/json", {"error": "flat"})
    assert check_answer(document, op, 503, "application/json",
                        {"error": {"code": "unavailable", "message": "x", "field": None}}) == []


def test_the_checker_refuses_an_undeclared_field(document):
    op = _op(document, "proxy_my_booking")
    schema = op["responses"]["200"]["content"]["application/json"]["schema"]
    assert undeclared_fields(document, schema, {"id": 1, "code": "ABC123"}) == []
    assert undeclared_fields(document, schema, {"id": 1, "surprise": True}) == ["surprise"]
    problems = check_answer(document, op, 200, "application/json", {"id": 1, "surprise": True})
    assert problems and "surprise" in problems[0]


def test_a_violation_fails_the_request_that_saw_it(app, document):
    from tests.support.contract import client_class

    strict = dict(document, paths={**document["paths"], "/api/v1/me": {"get": {
        **document["paths"]["/api/v1/me"]["get"], "responses": {"200": {"description": "OK"}}}}})
    client = client_class(strict)(app, app.response_class, use_cookies=True)
    with pytest.raises(ContractViolation, match="401"):
        client.get("/api/v1/me")


def test_a_method_the_path_does_not_have_says_which_it_has(client):
    """Found by schemathesis: a 405 without the Allow header RFC 9110 requires."""
    response = client.open("/api/v1/me", method="TRACE")
    assert response.status_code == 405 and response.get_json()["error"]["code"] == "method_not_allowed"
    assert "GET" in response.headers["Allow"]


def test_the_checker_refuses_a_missing_required_field_or_a_wrong_type(document):
    op = _op(document, "proxy_my_booking")
    schema = op["responses"]["200"]["content"]["application/json"]["schema"]
    booking = resolve(document, schema)
    assert {"id", "code", "status", "slot_start", "case_code"} <= set(booking["required"])
    problems = missing_or_mistyped(document, schema, {"id": "7", "code": None})
    assert "missing required field status" in problems and "id is str, declared integer" in problems
    assert "code is NoneType, declared string" in problems
    # A nullable field may be null, but it is there: case_code is null until a case is opened.
    assert "missing required field case_code" in problems
    assert check_answer(document, op, 200, "application/json", {"id": 1})


def test_the_checker_picks_the_branch_of_a_staff_or_resident_answer(document):
    op = _op(document, "events_get")
    schema = op["responses"]["200"]["content"]["application/json"]["schema"]
    staff = {name: None for name in resolve(document, {"$ref": "#/components/schemas/StaffEvent"})["required"]}
    assert "my_signup" not in missing_or_mistyped(document, schema, staff)
    assert any("id is NoneType" in p for p in missing_or_mistyped(document, schema, staff))
    assert missing_or_mistyped(document, schema, {"id": 1})


def _objects(node, where="#"):
    """Every object schema written out in ``node`` (not through a reference), with where it stands."""
    if isinstance(node, dict):
        if isinstance(node.get("properties"), dict) and "$ref" not in node:
            yield where, node
        for key, value in node.items():
            yield from _objects(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _objects(value, f"{where}/{index}")


def test_every_answer_object_says_which_fields_it_always_has(document):
    """A client generator makes a field optional unless it is required: every object a success
    answers lists the fields it always carries."""
    answers = [response.get("content", {}).get("application/json", {}).get("schema")
               for _, _, op in operations(document).values() for code, response in op["responses"].items()
               if code.startswith("2")]
    schemas = {name: s for name, s in document["components"]["schemas"].items() if name != "Error"}
    for where, schema in _objects({"answers": answers, "components": schemas}):
        if schema.get("additionalProperties") not in (None, False) or "/detail" in where:
            continue  # free-form: what a step records depends on its kind
        assert schema.get("required"), f"{where}: no required fields"
        assert set(schema["required"]) <= set(schema["properties"]), where


def test_an_object_many_answers_share_is_one_component(document):
    """The same object written out twice would make a generator build two models of it."""
    seen: dict[str, str] = {}
    for where, schema in _objects({"paths": document["paths"], "components": document["components"]}):
        if len(schema["properties"]) < 6 or "/requestBody/" in where:
            continue
        shape = json.dumps(schema, sort_keys=True)
        assert shape not in seen, f"{where} repeats {seen.get(shape)}: make it a component"
        seen[shape] = where


def _body(document, op_id):
    return operations(document)[op_id][2]["requestBody"]["content"]["application/json"]["schema"]


def test_governance_bodies_are_derived_from_the_handlers_reads(document):
    """The governance handlers read their bodies with app/handlers/governance/fields.py: the document
    says what those reads check, through the calls the body is passed to."""
    need = _body(document, "create_need_line")
    assert set(need["required"]) == {"kind", "title"}
    assert need["properties"]["title"]["maxLength"] == 100 and "other" in need["properties"]["kind"]["enum"]
    assert need["properties"]["quantity"]["exclusiveMinimum"] == 0
    assert need["properties"]["time_from"]["pattern"] and need["properties"]["weekdays"]["items"]["maximum"] == 7
    assert "required" not in _body(document, "update_need_line")  # partial=True: nothing required
    assert "required" not in _body(document, "update_map_station")
    station = _body(document, "create_map_station")
    assert set(station["required"]) == {"name", "kind", "address", "lat", "lng"}
    assert station["properties"]["lat"]["maximum"] == 90 and station["properties"]["lng"]["minimum"] == -180
    assert _body(document, "assign_need_resource")["required"] == ["resource_id"]  # if not present(...): raise
    # only_known: a resident's topic takes a title and a detail, staff may name requests and a building.
    assert set(_body(document, "propose_topic")["properties"]) == {"title", "detail"}
    assert {"request_ids", "building_id"} <= set(_body(document, "create_topic_line")["properties"])
    # The need's own fields, as POST /needs derives them, without their required.
    wish = _body(document, "promote_wish_to_need")
    assert wish["required"] == ["wish_id"] and wish["properties"]["title"]["maxLength"] == 100


def _validates(document, name, value) -> bool:
    from jsonschema import Draft202012Validator
    return Draft202012Validator({**document, "$ref": f"#/components/schemas/{name}"}).is_valid(value)


def test_answers_schemathesis_found_outside_the_schema_fit_it(document):
    """Found by schemathesis: a staff member's view of a wish fitted both branches of a oneOf, and an
    alert recipient with no channel (nobody to send it to) has channel null."""
    resident = {"id": 1, "name": "陈桂芳", "nickname": None, "phone": "13800000000", "community_id": 1,
                "building_id": 1, "unit": None, "room": None}
    wish = {"id": 1, "community_id": 1, "title": "修轮椅", "detail": None, "status": "open",
            "created_at": "2026-11-17T09:30:00+08:00", "claimed_at": None, "fulfilled_at": None,
            "fulfil_note": None, "resident": resident, "claimed_by": None}
    assert _validates(document, "Wish", wish) and _validates(document, "Wish", {**wish, "resident": {"name": "陈*芳"}})
    recipient = {"staff": None, "role": "duty", "target": "none", "channel": None, "group": None,
                 "message_id": None, "delivery": "no_channel", "attempts": 0, "error": None, "delivered_at": None}
    alert = {"id": 4, "key": "4:no_duty", "kind": "no_duty", "community_id": 1, "clock_id": 4, "text": "无人值班",
             "related": None, "created_at": "2026-11-17T09:30:00+08:00", "dispatched_at": None,
             "recipients": [recipient]}
    assert _validates(document, "Alert", alert)
