"""An audit entry's changes as people read them: nested values compared part by part."""
from helpdesk.audit.changes import Change, readable_changes


def test_plain_values_are_shown_as_stored():
    assert readable_changes({"status": ["new", "in_progress"], "title": [None, "Down"]}) == [
        Change("status", "new", "in_progress"), Change("title", None, "Down")]


def test_objects_are_compared_key_by_key_and_unchanged_keys_left_out():
    changes = readable_changes({"availability": [{"target_percent": "99.900", "calendar_id": 1},
                                                 {"target_percent": "99.500", "calendar_id": 1}]})
    assert changes == [Change("availability.target_percent", "99.900", "99.500")]


def test_rows_with_a_code_are_matched_by_it_whatever_their_order():
    before = [{"code": "P1", "gti_seconds": 7200}, {"code": "P3", "gti_seconds": 28800}]
    after = [{"code": "P2", "gti_seconds": 14400}, {"code": "P1", "gti_seconds": 3600}]
    assert readable_changes({"priorities": [before, after]}) == [
        Change("priorities[P1].gti_seconds", 7200, 3600),
        Change("priorities[P3]", {"code": "P3", "gti_seconds": 28800}, None),
        Change("priorities[P2]", None, {"code": "P2", "gti_seconds": 14400})]


def test_rows_without_a_key_are_compared_by_position_when_as_many():
    assert readable_changes({"windows": [[{"from": "08:00"}], [{"from": "09:00"}]]}) == [
        Change("windows[0].from", "08:00", "09:00")]


def test_lists_of_plain_values_or_of_other_lengths_are_shown_whole():
    assert readable_changes({"closures": [["2026-12-24"], ["2026-12-24", "2026-12-31"]]}) == [
        Change("closures", ["2026-12-24"], ["2026-12-24", "2026-12-31"])]


def test_a_value_that_is_not_a_before_and_after_pair_is_shown_as_the_new_value():
    assert readable_changes({"note": "moved"}) == [Change("note", None, "moved")]
