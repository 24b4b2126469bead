"""The access policy, role by role: who works tickets, who sees internal notes and what is attached
to them, who reads every organisation, who manages billing and outages."""
from dataclasses import dataclass

import pytest

from helpdesk.accounts import access
from helpdesk.accounts.roles import Role


@dataclass
class Person:
    role: Role


@dataclass
class Message:
    is_internal: bool


@dataclass
class Attachment:
    message: Message | None


REPLY, NOTE = Message(is_internal=False), Message(is_internal=True)
ON_TICKET, ON_REPLY, ON_NOTE = Attachment(None), Attachment(REPLY), Attachment(NOTE)


@pytest.mark.parametrize("role", sorted(access.TICKET_STAFF))
def test_staff_see_internal_notes_and_what_is_attached_to_them(role):
    staff = Person(role)
    assert access.visible_messages(staff, [REPLY, NOTE]) == [REPLY, NOTE]
    assert access.visible_attachments(staff, [ON_TICKET, ON_REPLY, ON_NOTE]) == [
        ON_TICKET, ON_REPLY, ON_NOTE]
    assert access.sees_audit_trail(staff) and access.manages_outages(staff)


@pytest.mark.parametrize("role", [Role.CLIENT, Role.FINANCE])
def test_clients_and_finance_never_see_internal_notes_nor_their_attachments(role):
    reader = Person(role)
    assert access.visible_messages(reader, [REPLY, NOTE]) == [REPLY]
    assert access.visible_attachments(reader, [ON_TICKET, ON_REPLY, ON_NOTE]) == [
        ON_TICKET, ON_REPLY]
    assert not access.may_see_attachment(reader, ON_NOTE)
    assert not access.sees_audit_trail(reader) and not access.manages_outages(reader)


def test_only_clients_are_confined_to_their_own_organisation():
    assert {role for role in Role if not access.sees_every_organisation(Person(role))} == {
        Role.CLIENT}


def test_finance_and_admins_manage_billing():
    assert {role for role in Role if access.manages_billing(Person(role))} == {
        Role.FINANCE, Role.ADMIN}


def test_tickets_are_assigned_to_technicians_and_team_leads_only():
    assert {Role.TECHNICIAN, Role.TEAM_LEAD} == access.ASSIGNABLE
    assert access.ASSIGNABLE <= access.TICKET_STAFF


def test_every_role_set_names_known_roles_and_everyone_is_every_role():
    assert set(Role) == access.EVERYONE
    for roles in (access.TICKET_STAFF, access.TICKET_ACTORS, access.FINANCE, access.PROVIDER,
                  access.OVERSIGHT, access.OPERATIONS, access.CLIENTS):
        assert roles and roles <= access.EVERYONE
